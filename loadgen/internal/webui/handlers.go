package webui

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"predictlab/loadgen/internal/config"
	"predictlab/loadgen/internal/ratio"
	"predictlab/loadgen/internal/report"
	"predictlab/loadgen/internal/stats"
)

//go:embed assets/index.html.tmpl
var indexTmpl string

//go:embed assets/app.js
var appJS string

//go:embed assets/app.css
var appCSS string

var pageTmpl = template.Must(template.New("index").Parse(indexTmpl))

// maxRows is Locust's cap on the stats and errors lists of /stats/requests.
const maxRows = 500

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.HandleFunc("POST /swarm", s.sameSite(s.handleSwarm))
	mux.HandleFunc("GET /stop", s.sameSite(s.handleStop))
	mux.HandleFunc("GET /stats/reset", s.sameSite(s.handleReset))
	mux.HandleFunc("GET /stats/requests", s.handleRequests)
	mux.HandleFunc("GET /stats/history", s.handleHistory)
	mux.HandleFunc("GET /stats/requests/csv", s.csvHandler("requests", s.opts.CSV.Stats))
	mux.HandleFunc("GET /stats/failures/csv", s.csvHandler("failures", s.opts.CSV.Failures))
	mux.HandleFunc("GET /exceptions/csv", s.csvHandler("exceptions", s.opts.CSV.Exceptions))
	mux.HandleFunc("GET /stats/requests_full_history/csv", s.handleFullHistory)
	mux.HandleFunc("GET /exceptions", s.handleExceptions)
	mux.HandleFunc("GET /stats/report", s.handleReport)
	mux.HandleFunc("GET /tasks", s.handleTasks)

	static := http.NewServeMux()
	static.HandleFunc("GET /static/charts.js", asset("text/javascript; charset=utf-8", report.ChartScript()))
	static.HandleFunc("GET /static/app.js", asset("text/javascript; charset=utf-8", appJS))
	static.HandleFunc("GET /static/base.css", asset("text/css; charset=utf-8", report.BaseCSS()))
	static.HandleFunc("GET /static/app.css", asset("text/css; charset=utf-8", appCSS))

	protected := s.authorized(mux)
	root := http.NewServeMux()
	root.Handle("/static/", static) // not protected, as Locust's /static/
	root.Handle("/", protected)
	return s.guard(root)
}

func asset(contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = io.WriteString(w, body)
	}
}

// writeJSON answers v as Flask does in Locust: 2-space indent, sorted keys
// (maps are encoded with sorted keys).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, "encode JSON: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// escape is Python's html.escape(s, quote=True), which Locust applies to
// names, errors and exception text in its JSON.
var escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#x27;").Replace

type pageData struct {
	State, Host, Version, RunTime string
	CSRFToken                     string
	Users                         int
	SpawnRate                     string
	FullHistory                   bool
	// Master shows the Workers tab and count (a distributed master).
	Master bool
}

func (s *Server) handleIndex(w http.ResponseWriter, _ *http.Request) {
	d := pageData{
		State:       s.opts.Runner.State(),
		Host:        s.Target(),
		Version:     s.opts.Version,
		Users:       s.opts.Users,
		SpawnRate:   strconv.FormatFloat(s.opts.SpawnRate, 'g', -1, 64),
		FullHistory: s.opts.FullHistoryCSV != "",
		CSRFToken:   s.csrf,
		Master:      s.opts.Workers != nil,
	}
	if s.opts.RunTime > 0 {
		d.RunTime = strconv.FormatInt(int64(s.opts.RunTime/time.Second), 10) + "s"
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, d); err != nil {
		http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) handleSwarm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"success": false, "message": "Bad form: " + err.Error(), "host": s.Target()})
		return
	}
	form := func(k string) (string, bool) {
		v, ok := r.PostForm[k]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	req, err := parseSwarm(form, s.Target(), config.ParseTimespan)
	if err != nil {
		status := http.StatusBadRequest
		host := s.Target()
		if errors.Is(err, errRunTime) {
			status = http.StatusOK // Locust answers a bad run_time with 200
			host = req.host
		}
		writeJSON(w, status, map[string]any{"success": false, "message": err.Error(), "host": host})
		return
	}
	if err := s.opts.Runner.Start(req.users, req.spawnRate, req.host, req.runTime); err != nil {
		writeJSON(w, http.StatusConflict, map[string]any{"success": false, "message": err.Error(), "host": req.host})
		return
	}
	s.mu.Lock()
	s.target = req.host
	s.started = true
	s.mu.Unlock()
	s.invalidate()
	s.opts.Log.Info().Int("users", req.users).Float64("spawn_rate", req.spawnRate).Str("host", req.host).
		Dur("run_time", req.runTime).Msg("swarm started from the web UI")
	ans := map[string]any{"success": true, "message": "Swarming started", "host": req.host}
	if req.hasRun {
		ans["run_time"] = int64(req.runTime / time.Second)
	}
	writeJSON(w, http.StatusOK, ans)
}

func (s *Server) handleStop(w http.ResponseWriter, _ *http.Request) {
	s.opts.Runner.Stop()
	s.invalidate()
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Test stopped"})
}

func (s *Server) handleReset(w http.ResponseWriter, _ *http.Request) {
	s.opts.Runner.ResetStats()
	s.invalidate()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, "ok")
}

// roundMS rounds to the microsecond, dropping float noise from ms values.
func roundMS(v float64) float64 { return math.Round(v*1000) / 1000 }

// properRound is Locust's proper_round: half away from zero, to an integer.
func properRound(v float64) float64 { return math.Floor(v + 0.5) }

func entryJSON(e *stats.Entry, method any) map[string]any {
	return map[string]any{
		"avg_content_length":         roundMS(e.AvgContentSize()),
		"avg_response_time":          roundMS(e.Avg()),
		"current_fail_per_sec":       roundMS(e.CurrentFailPerSec()),
		"current_rps":                roundMS(e.CurrentRPS()),
		"max_response_time":          properRound(e.Max()),
		"median_response_time":       roundMS(e.Median()),
		"method":                     method,
		"min_response_time":          properRound(e.Min()),
		"name":                       e.Name,
		"ninetieth_response_time":    roundMS(e.Percentile(0.9)),
		"ninety_ninth_response_time": roundMS(e.Percentile(0.99)),
		"num_failures":               e.NumFailures,
		"num_requests":               e.NumRequests,
		"safe_name":                  escape(e.Name),
	}
}

// requestsJSON builds Locust's /stats/requests answer (reference §5.3).
func (s *Server) requestsJSON(snap *stats.Snapshot) map[string]any {
	state := s.opts.Runner.State()
	rows := make([]map[string]any, 0, min(len(snap.Entries), maxRows)+1)
	for i, e := range snap.Entries {
		if i == maxRows {
			break
		}
		rows = append(rows, entryJSON(e, e.Method))
	}
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	var totalMethod any = ""
	if state == "ready" && !started {
		totalMethod = nil // Locust: null before the first test
	}
	total := snap.Total
	if total == nil {
		total = &stats.Entry{Name: "Aggregated"}
	}
	rows = append(rows, entryJSON(total, totalMethod))
	errs := make([]map[string]any, 0, min(len(snap.Failures), maxRows))
	for i, f := range snap.Failures {
		if i == maxRows {
			break
		}
		errs = append(errs, map[string]any{
			"error": escape(f.Error), "method": f.Method,
			"name": escape(f.Name), "occurrences": f.Occurrences,
		})
	}
	ans := map[string]any{
		"errors":     errs,
		"fail_ratio": total.FailRatio(),
		"state":      state,
		"stats":      rows,
		"total_rps":  roundMS(total.CurrentRPS()),
		"user_count": s.opts.Runner.UserCount(),
	}
	if s.opts.Workers != nil {
		ws := s.opts.Workers()
		if ws == nil {
			ws = []Worker{}
		}
		ans["workers"] = ws
	}
	var p50, p95 any // null when there is no window yet
	if total.HasCurrentWindow() {
		p50, p95 = roundMS(total.CurrentPercentile(0.5)), roundMS(total.CurrentPercentile(0.95))
	}
	ans["current_response_time_percentile_50"] = p50
	ans["current_response_time_percentile_95"] = p95
	return ans
}

func (s *Server) handleRequests(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.requestsJSON(s.snapshot(false)))
}

// historyJSON is GET /stats/history (ours, not Locust's): the chart columns
// (bounded by the stats engine) and the self-check verdict.
type historyJSON struct {
	report.Embedded
	Verdict *verdictJSON `json:"verdict"`
}

type verdictJSON struct {
	Valid            bool     `json:"valid"`
	MaxCPUPercent    float64  `json:"max_cpu_percent"`
	MaxScheduleLagMs float64  `json:"max_schedule_lag_ms"`
	LatePercent      float64  `json:"late_percent"`
	Warnings         []string `json:"warnings"`
	// TimelineNote, on a distributed master, says whose seconds the chart
	// shows (report.SelfCheck.TimelineNote).
	TimelineNote string `json:"timeline_note,omitempty"`
}

func (s *Server) handleHistory(w http.ResponseWriter, _ *http.Request) {
	d := s.opts.Report(s.snapshot(false))
	ans := historyJSON{Embedded: report.EmbeddedData(d)}
	if sc := d.SelfCheck; sc != nil {
		ans.Verdict = &verdictJSON{Valid: sc.Valid, MaxCPUPercent: sc.MaxCPUPercent,
			MaxScheduleLagMs: sc.MaxScheduleLagMs, LatePercent: sc.LatePercent, Warnings: sc.Warnings, TimelineNote: sc.TimelineNote}
		if ans.Verdict.Warnings == nil {
			ans.Verdict.Warnings = []string{}
		}
	}
	writeJSON(w, http.StatusOK, ans)
}

func (s *Server) handleExceptions(w http.ResponseWriter, _ *http.Request) {
	snap := s.snapshot(false)
	list := make([]map[string]any, 0, len(snap.Exceptions))
	for _, e := range snap.Exceptions {
		list = append(list, map[string]any{
			"count": e.Count, "msg": escape(e.Message),
			"nodes": e.Nodes, "traceback": escape(e.Traceback),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"exceptions": list})
}

func (s *Server) csvHandler(kind string, write func(io.Writer, *stats.Snapshot) error) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		var buf bytes.Buffer
		if err := write(&buf, s.snapshot(true)); err != nil {
			http.Error(w, "write "+kind+" CSV: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Content-Disposition", "attachment;filename="+kind+"_"+pythonTime(s.opts.Now())+".csv")
		_, _ = w.Write(buf.Bytes())
	}
}

func (s *Server) handleFullHistory(w http.ResponseWriter, r *http.Request) {
	if s.opts.FullHistoryCSV == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "Error: Server was not started with option to generate full history.")
		return
	}
	f, err := os.Open(s.opts.FullHistoryCSV)
	if err != nil {
		http.Error(w, "open history CSV: "+err.Error(), http.StatusNotFound)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/csv")
	w.Header().Set("Content-Disposition", "attachment;filename=requests_full_history_"+pythonTime(s.opts.Now())+".csv")
	_, _ = io.Copy(w, f)
}

func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	d := s.opts.Report(s.snapshot(true))
	download := r.URL.Query().Get("download") != ""
	d.DownloadLink = !download
	var buf bytes.Buffer
	if err := report.Write(&buf, d); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if download {
		w.Header().Set("Content-Disposition", "attachment;filename=report_"+pythonTime(s.opts.Now())+".html")
	}
	_, _ = w.Write(buf.Bytes())
}

// handleTasks answers Locust's GET /tasks: {"per_class": ..., "total": ...}
// as Flask writes it (2-space indent, sorted keys, Python floats).
func (s *Server) handleTasks(w http.ResponseWriter, _ *http.Request) {
	var r ratio.Ratios
	if s.opts.Ratios != nil {
		r = s.opts.Ratios()
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(r.JSON(ratio.WebJSON), '\n'))
}
