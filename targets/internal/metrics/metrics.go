// Package metrics exports a service's internals in the Prometheus text format, on
// a registry of its own (no global state), under the names of
// predictlab/internal/targetsapi: in-flight requests, request durations, requests
// abandoned by their clients, and the executor's internals (blocking: workers
// busy, total and busy seconds, queue length and wait; event loop: busy ratio and
// time, run-queue length, lag).
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"predictlab/internal/targetsapi"
	"predictlab/targets/internal/executor"
)

// Metrics is one service's set of metrics. Its methods are safe for concurrent use.
type Metrics struct {
	service   string
	reg       *prometheus.Registry
	inflight  prometheus.Gauge
	abandoned prometheus.Counter
	duration  *prometheus.HistogramVec
	queueWait prometheus.Histogram
	lag       prometheus.Histogram
}

// New returns the metrics of a service with the given name ("scoring", "model"),
// labelled with it, plus the Go runtime and process collectors.
func New(service string) *Metrics {
	reg := prometheus.NewRegistry()
	labels := prometheus.Labels{targetsapi.LabelService: service}
	m := &Metrics{
		service: service,
		reg:     reg,
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: targetsapi.MetricInflight, ConstLabels: labels,
			Help: "Predict requests being served now (queued or running).",
		}),
		abandoned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: targetsapi.MetricAbandoned, ConstLabels: labels,
			Help: "Predict requests whose client went away before the answer: dropped unrun if still queued, cancelled if running. Not in the request duration histogram.",
		}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: targetsapi.MetricRequestDuration, ConstLabels: labels,
			Help:    "Time to serve a predict request, from its arrival at the handler (queue wait included) to the response, by status code.",
			Buckets: []float64{.005, .01, .02, .03, .04, .045, .05, .06, .075, .09, .1, .125, .15, .2, .3, .5, .75, 1, 2.5, 5, 10, 30},
		}, []string{"code"}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: targetsapi.MetricQueueWait, ConstLabels: labels,
			Help:    "Blocking executor: time a request waited in the queue for a worker.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 14),
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: targetsapi.MetricLoopLag, ConstLabels: labels,
			Help:    "Event loop: time a ready callback waited for its loop.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 3, 13),
		}),
	}
	reg.MustRegister(m.inflight, m.abandoned, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry (GET /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is the service's registry.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// RequestStarted counts a request in flight. Call exactly one of the returned
// funcs: answered with the status code when it is answered, or abandoned when
// its client went away first.
func (m *Metrics) RequestStarted() (answered func(code int), abandoned func()) {
	start := time.Now()
	m.inflight.Inc()
	return func(code int) {
			m.inflight.Dec()
			m.duration.WithLabelValues(strconv.Itoa(code)).Observe(time.Since(start).Seconds())
		}, func() {
			m.inflight.Dec()
			m.abandoned.Inc()
		}
}

// Hooks are the executor hooks that feed the queue-wait and lag histograms.
func (m *Metrics) Hooks() executor.Hooks {
	return executor.Hooks{
		QueueWait: func(d time.Duration) { m.queueWait.Observe(d.Seconds()) },
		Lag:       func(d time.Duration) { m.lag.Observe(d.Seconds()) },
	}
}

// WatchBlocking exports a blocking executor's counters.
func (m *Metrics) WatchBlocking(b *executor.Blocking) {
	m.reg.MustRegister(
		m.queueWait,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: targetsapi.MetricWorkersBusy, ConstLabels: m.constLabels(),
			Help: "Blocking executor: workers running a request now.",
		}, func() float64 { return float64(b.Stats().Busy) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: targetsapi.MetricWorkersBusySeconds, ConstLabels: m.constLabels(),
			Help: "Blocking executor: seconds workers spent on requests, summed over workers; utilisation = Δ / (workers × interval).",
		}, func() float64 { return b.Stats().BusyTotal.Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: targetsapi.MetricWorkersTotal, ConstLabels: m.constLabels(),
			Help: "Blocking executor: size of the worker pool.",
		}, func() float64 { return float64(b.Stats().Workers) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: targetsapi.MetricQueueLength, ConstLabels: m.constLabels(),
			Help: "Blocking executor: requests waiting for a worker now.",
		}, func() float64 { return float64(b.Stats().Queued) }),
	)
}

// WatchLoop exports an event-loop executor's counters.
func (m *Metrics) WatchLoop(l *executor.Loop) {
	m.reg.MustRegister(
		m.lag,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: targetsapi.MetricLoopBusyRatio, ConstLabels: m.constLabels(),
			Help: "Event loop: fraction of the last second the loops spent running callbacks (mean over loops).",
		}, func() float64 { return l.Stats().BusyRatio }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: targetsapi.MetricLoopBusySeconds, ConstLabels: m.constLabels(),
			Help: "Event loop: total time the loops spent running callbacks.",
		}, func() float64 { return l.Stats().BusyTotal.Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: targetsapi.MetricLoopRunqueue, ConstLabels: m.constLabels(),
			Help: "Event loop: callbacks ready and waiting for their loop now.",
		}, func() float64 { return float64(l.Stats().RunQueue) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: targetsapi.MetricLoopInflight, ConstLabels: m.constLabels(),
			Help: "Event loop: requests admitted and not finished.",
		}, func() float64 { return float64(l.Stats().InFlight) }),
	)
}

func (m *Metrics) constLabels() prometheus.Labels {
	return prometheus.Labels{targetsapi.LabelService: m.service}
}
