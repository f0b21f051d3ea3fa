package predict

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"predictlab/internal/targetsapi"
)

// Runtime executes the steps of a request. It is supplied by an executor.
//
// CPU runs fn to completion: in the calling worker (blocking style) or as one
// callback on the request's event loop (event-loop style). Wait performs the
// given waits: one after another in the calling worker, stopping at the first
// error (blocking style), or all at once off the loop, awaited as a group
// (event-loop style). Wait returns the first error, in call order.
type Runtime interface {
	CPU(fn func())
	Wait(ctx context.Context, calls ...func(ctx context.Context) error) error
}

// Response is what a service answers: an HTTP status and a JSON body.
type Response struct {
	Status int
	Body   []byte
}

// ErrorResponse is a JSON error response {"error": msg}.
func ErrorResponse(status int, msg string) Response {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	return Response{Status: status, Body: b}
}

func detailResponse(v float64) Response {
	b := make([]byte, 0, 32)
	b = append(b, `{"detail":`...)
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	b = append(b, '}')
	return Response{Status: http.StatusOK, Body: b}
}

// LockedRand is a seeded random source safe for concurrent use.
type LockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

// NewLockedRand wraps r; r must not be used elsewhere afterwards.
func NewLockedRand(r *rand.Rand) *LockedRand { return &LockedRand{r: r} }

// Delay draws a delay uniformly from d.
func (l *LockedRand) Delay(d targetsapi.DelayRange) time.Duration {
	if d.Max <= d.Min {
		return d.Min
	}
	l.mu.Lock()
	n := l.r.Int64N(int64(d.Max-d.Min) + 1)
	l.mu.Unlock()
	return d.Min + time.Duration(n)
}

// Sleep waits for d or until ctx is done, whichever comes first.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Model is the model service: it answers {"detail": <delay in seconds>} after a
// delay drawn from Delay. Safe for concurrent use.
type Model struct {
	Delay   targetsapi.DelayRange
	CPUCost time.Duration
	Rand    *LockedRand
	Pacer   Pacer // timer-lateness compensation of the delay
}

// Handle serves one predict request on rt.
func (m *Model) Handle(ctx context.Context, rt Runtime, body []byte) Response {
	var (
		resp  Response
		delay time.Duration
		bad   bool
	)
	rt.CPU(func() {
		if _, err := ParseBody(body); err != nil {
			resp, bad = inputErrorResponse(err), true
			return
		}
		Burn(m.CPUCost)
		delay = m.Rand.Delay(m.Delay)
	})
	if bad {
		return resp
	}
	if err := rt.Wait(ctx, func(ctx context.Context) error { return m.Pacer.Sleep(ctx, delay) }); err != nil {
		return ErrorResponse(http.StatusServiceUnavailable, "request cancelled: "+err.Error())
	}
	rt.CPU(func() { resp = detailResponse(delay.Seconds()) })
	return resp
}

func inputErrorResponse(err error) Response {
	var ie *InputError
	if errors.As(err, &ie) {
		return ErrorResponse(ie.Status, ie.Msg)
	}
	return ErrorResponse(http.StatusBadRequest, err.Error())
}

// FeatureStore fetches feature vectors. A miss is (nil, nil).
type FeatureStore interface {
	Features(ctx context.Context, key string) ([]byte, error)
}

// ModelClient calls the model service once with the given body and returns the
// raw response body of a 200 answer.
type ModelClient interface {
	Predict(ctx context.Context, body []byte) ([]byte, error)
}

// Scoring is the scoring service: it fetches the input's features, calls the model
// Fanout times and answers {"detail": <mean of the predictions>}. Safe for
// concurrent use.
type Scoring struct {
	Store        FeatureStore
	Model        ModelClient
	Fanout       int
	CPUCost      time.Duration
	StoreTimeout time.Duration
	ModelTimeout time.Duration
	// Log gets the details of downstream failures, which clients do not (they
	// would show internal addresses and the model's own answers). Sample it: a
	// dead downstream fails every request.
	Log zerolog.Logger
}

// Handle serves one predict request on rt.
func (s *Scoring) Handle(ctx context.Context, rt Runtime, body []byte) Response {
	var (
		resp Response
		key  string
		bad  bool
	)
	rt.CPU(func() {
		in, err := ParseBody(body)
		if err != nil {
			resp, bad = inputErrorResponse(err), true
			return
		}
		Burn(s.CPUCost)
		key = FeatureKey(in)
	})
	if bad {
		return resp
	}

	err := rt.Wait(ctx, func(ctx context.Context) error {
		ctx, cancel := withTimeout(ctx, s.StoreTimeout)
		defer cancel()
		_, err := s.Store.Features(ctx, key)
		return err
	})
	if err != nil {
		if ctx.Err() != nil { // the client left: no one to answer
			return ErrorResponse(http.StatusServiceUnavailable, "request cancelled")
		}
		if isTimeout(err) {
			return ErrorResponse(http.StatusGatewayTimeout, "feature store timed out")
		}
		s.Log.Warn().Err(err).Msg("feature store call failed")
		return ErrorResponse(http.StatusServiceUnavailable, "feature store unavailable")
	}

	n := max(s.Fanout, 1)
	answers := make([][]byte, n)
	calls := make([]func(context.Context) error, n)
	for i := range calls {
		calls[i] = func(ctx context.Context) error {
			ctx, cancel := withTimeout(ctx, s.ModelTimeout)
			defer cancel()
			b, err := s.Model.Predict(ctx, body)
			answers[i] = b
			return err
		}
	}
	if err := rt.Wait(ctx, calls...); err != nil {
		if ctx.Err() != nil {
			return ErrorResponse(http.StatusServiceUnavailable, "request cancelled")
		}
		if isTimeout(err) {
			return ErrorResponse(http.StatusGatewayTimeout, "model service timed out")
		}
		s.Log.Warn().Err(err).Msg("model call failed")
		return ErrorResponse(http.StatusBadGateway, "model service failed")
	}

	rt.CPU(func() {
		sum := 0.0
		for _, a := range answers {
			var d struct {
				Detail *float64 `json:"detail"`
			}
			if err := json.Unmarshal(a, &d); err != nil || d.Detail == nil {
				resp = ErrorResponse(http.StatusBadGateway, "model service returned an invalid answer")
				return
			}
			sum += *d.Detail
		}
		resp = detailResponse(sum / float64(n))
	})
	return resp
}

func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
