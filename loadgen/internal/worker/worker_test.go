package worker

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/locustlog"
	"predictlab/loadgen/internal/locustproto"
	"predictlab/loadgen/internal/locustrpc"
	"predictlab/loadgen/internal/locuststats"
	"predictlab/loadgen/internal/users"
)

// syncBuf is a log sink safe for concurrent writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stub is a target that counts requests.
func stub(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"detail": 1.0}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// fakeMaster is a Go ROUTER speaking the master's side.
type fakeMaster struct {
	t   *testing.T
	srv *locustrpc.Server
	in  chan locustproto.Message
	ids chan string
}

func newFakeMaster(t *testing.T, addr string) *fakeMaster {
	t.Helper()
	srv, err := locustrpc.Listen(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	m := &fakeMaster{t: t, srv: srv, in: make(chan locustproto.Message, 1000), ids: make(chan string, 10)}
	go func() {
		for {
			id, msg, err := srv.Recv()
			if err != nil {
				close(m.in)
				return
			}
			if msg.Type == locustproto.TypeClientReady {
				m.ids <- id
			}
			m.in <- msg
		}
	}()
	t.Cleanup(func() { srv.Close() })
	return m
}

// next returns the next message of type typ, skipping heartbeats and
// stats unless asked for.
func (m *fakeMaster) next(typ string) locustproto.Message {
	m.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case msg, ok := <-m.in:
			if !ok {
				m.t.Fatalf("master closed while waiting for %s", typ)
			}
			if msg.Type == typ {
				return msg
			}
		case <-timeout:
			m.t.Fatalf("no %s message in 20 s", typ)
		}
	}
}

func (m *fakeMaster) send(id string, msg locustproto.Message) {
	m.t.Helper()
	if err := m.srv.Send(id, msg); err != nil {
		m.t.Fatal(err)
	}
}

func spawnMsg(id string, ts float64, host string, counts ...any) locustproto.Message {
	var cc locustproto.Map
	for i := 0; i < len(counts); i += 2 {
		cc = append(cc, locustproto.KV{Key: counts[i], Value: int64(counts[i+1].(int))})
	}
	return locustproto.Message{Type: locustproto.TypeSpawn, NodeID: id, Data: locustproto.Map{
		{Key: "timestamp", Value: ts}, {Key: "user_classes_count", Value: cc}, {Key: "host", Value: host},
		{Key: "stop_timeout", Value: nil}, {Key: "parsed_options", Value: locustproto.Map{{Key: "tags", Value: nil}}},
	}}
}

func get(t *testing.T, m locustproto.Message, keys ...string) any {
	t.Helper()
	var v any = m.Data
	for _, k := range keys {
		mm, ok := v.(locustproto.Map)
		if !ok {
			t.Fatalf("%s: %v is not a map", m.Type, v)
		}
		v, _ = mm.Get(k)
	}
	return v
}

// startWorker runs a worker until the test ends; done receives Run's result
// once (the cleanup waits for it if the test did not).
func startWorker(t *testing.T, addr string, log *syncBuf) (cancel func(), done chan error, w *Worker) {
	t.Helper()
	w = New(Options{
		MasterAddr: addr, Classes: users.Builtin(),
		Log:               locustlog.New(log, "test", zerolog.InfoLevel, nil),
		HeartbeatInterval: 100 * time.Millisecond, ReportInterval: 300 * time.Millisecond,
		ConnectTimeout: time.Second, ConnectRetries: 30,
	})
	ctx, c := context.WithCancel(context.Background())
	done = make(chan error, 1)
	finished := make(chan struct{})
	go func() { done <- w.Run(ctx); close(finished) }()
	t.Cleanup(func() {
		c()
		select {
		case <-finished:
		case <-time.After(20 * time.Second):
			t.Error("worker did not stop")
		}
	})
	return c, done, w
}

func TestWorkerSession(t *testing.T) {
	if testing.Short() {
		t.Skip("runs users for a few seconds: skipped with -short")
	}
	t.Parallel()
	target, hits := stub(t)
	master := newFakeMaster(t, "127.0.0.1:0")
	log := &syncBuf{}
	_, done, w := startWorker(t, master.srv.Addr().String(), log)

	ready := master.next(locustproto.TypeClientReady)
	if ready.Data != locustproto.Version || ready.NodeID != w.ID() || !strings.Contains(w.ID(), "_") {
		t.Fatalf("client_ready %+v", ready)
	}
	id := <-master.ids
	master.send(id, locustproto.Ack(id, 0))
	hb := master.next(locustproto.TypeHeartbeat)
	if get(t, hb, "state") != "ready" {
		t.Errorf("heartbeat %+v", hb.Data)
	}
	if _, ok := get(t, hb, "current_cpu_usage").(float64); !ok {
		t.Errorf("heartbeat cpu %#v", get(t, hb, "current_cpu_usage"))
	}
	if rss, _ := get(t, hb, "current_memory_usage").(int64); rss <= 0 {
		t.Errorf("heartbeat rss %#v", get(t, hb, "current_memory_usage"))
	}

	master.send(id, spawnMsg(id, 1, target.URL, "ApiSyncUser", 3, "NoSuchUser", 1))
	master.next(locustproto.TypeSpawning)
	sc := master.next(locustproto.TypeSpawningComplete)
	if got := get(t, sc, "user_count"); got != int64(3) {
		t.Errorf("spawning_complete user_count %v", got)
	}
	if got, want := get(t, sc, "user_classes_count"), (locustproto.Map{{Key: "ApiAsyncUser", Value: int64(0)}, {Key: "ApiSyncUser", Value: int64(3)}, {Key: "ApiUser", Value: int64(0)}}); !mapEq(got, want) {
		t.Errorf("spawning_complete user_classes_count %v, want %v", got, want)
	}
	exc := master.next(locustproto.TypeException)
	if msg, _ := get(t, exc, "msg").(string); !strings.Contains(msg, "NoSuchUser") {
		t.Errorf("exception %+v", exc.Data)
	}
	// A stale spawn is dropped; the users keep running.
	master.send(id, spawnMsg(id, 1, target.URL, "ApiSyncUser", 1))
	master.next(locustproto.TypeSpawning)

	var reported int64
	for reported < 6 {
		st := master.next(locustproto.TypeStats)
		n, _ := get(t, st, "stats_total", "num_requests").(int64)
		reported += n
		if uc := get(t, st, "user_count"); uc != int64(3) {
			t.Fatalf("stats user_count %v", uc)
		}
		if _, has := st.Data.(locustproto.Map).Get(locuststats.SelfCheckKey); has {
			t.Fatal("the self-check was sent to a master that did not ask for it (Locust's)")
		}
		if n > 0 {
			if m := get(t, st, "stats_total", "min_response_time"); m == nil {
				t.Fatal("min_response_time None with requests")
			}
			if e := get(t, st, "stats_total", "method"); e != "" {
				t.Fatalf("stats_total method %#v after the test started", e)
			}
		}
	}
	master.send(id, locustproto.Quit(id))
	final := master.next(locustproto.TypeStats)
	n, _ := get(t, final, "stats_total", "num_requests").(int64)
	reported += n
	master.next(locustproto.TypeQuit)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("worker still running 10 s after quit")
	}
	if h := hits.Load(); h < reported || h > reported+3 {
		t.Errorf("target saw %d requests, master got %d (at most 3 in flight at the quit)", h, reported)
	}
	if !strings.Contains(log.String(), "Got quit message from master, shutting down...") {
		t.Errorf("log lacks the quit line:\n%s", log)
	}
	if want := " requests, 0 failures in "; !strings.Contains(log.String(), "sent ") || !strings.Contains(log.String(), want) {
		t.Errorf("log lacks the totals line:\n%s", log)
	}
	if !strings.Contains(log.String(), "Unknown user class \"NoSuchUser\"") {
		t.Errorf("log lacks the unknown class line:\n%s", log)
	}
	// Nothing is sent after the quit.
	time.Sleep(1500 * time.Millisecond)
	if h := hits.Load(); h > reported+3 {
		t.Errorf("target saw %d requests after the quit, master got %d", h, reported)
	}
}

func mapEq(a, b any) bool {
	am, ok1 := a.(locustproto.Map)
	bm, ok2 := b.(locustproto.Map)
	if !ok1 || !ok2 || len(am) != len(bm) {
		return false
	}
	for i := range am {
		if am[i] != bm[i] {
			return false
		}
	}
	return true
}

// The master going away stops the users; when one listens again on the
// same address the worker registers again with the same id.
func TestWorkerReregisters(t *testing.T) {
	if testing.Short() {
		t.Skip("runs users for a few seconds: skipped with -short")
	}
	t.Parallel()
	target, hits := stub(t)
	master := newFakeMaster(t, "127.0.0.1:0")
	addr := master.srv.Addr().String()
	log := &syncBuf{}
	startWorker(t, addr, log)
	id := <-master.ids
	master.send(id, locustproto.Ack(id, 0))
	master.send(id, spawnMsg(id, 1, target.URL, "ApiSyncUser", 2))
	master.next(locustproto.TypeSpawningComplete)
	master.next(locustproto.TypeStats)

	master.srv.Close()
	// Users stop soon after the loss: the count settles.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), "Lost the connection to master") {
		if time.Now().After(deadline) {
			t.Fatalf("no loss logged:\n%s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	before := hits.Load()
	time.Sleep(2500 * time.Millisecond) // pacing is 1 s: users still running would send 4+ requests
	if after := hits.Load(); after > before+2 {
		t.Errorf("target saw %d requests in 2.5 s after the master went away", after-before)
	}

	master2 := newFakeMaster(t, addr)
	id2 := <-master2.ids
	if id2 != id {
		t.Errorf("re-registered as %q, was %q", id2, id)
	}
	master2.send(id2, locustproto.Ack(id2, 0))
	hb := master2.next(locustproto.TypeHeartbeat)
	if get(t, hb, "state") != "ready" {
		t.Errorf("heartbeat after re-registering: %v", hb.Data)
	}
}

// reconnect makes the worker re-dial with the same id and register again
// (Locust's worker re-dials without client_ready; loadgen also re-registers,
// which the master handles as the same worker); stop makes it stop its
// users, say client_stopped, then client_ready.
func TestWorkerReconnectAndStop(t *testing.T) {
	if testing.Short() {
		t.Skip("runs users for a few seconds: skipped with -short")
	}
	t.Parallel()
	target, _ := stub(t)
	master := newFakeMaster(t, "127.0.0.1:0")
	log := &syncBuf{}
	startWorker(t, master.srv.Addr().String(), log)
	id := <-master.ids
	master.send(id, locustproto.Ack(id, 0))
	master.send(id, spawnMsg(id, 1, target.URL, "ApiSyncUser", 2))
	master.next(locustproto.TypeSpawningComplete)

	master.send(id, locustproto.Message{Type: locustproto.TypeReconnect, NodeID: id})
	if again := <-master.ids; again != id {
		t.Fatalf("re-registered as %q, was %q", again, id)
	}
	master.send(id, locustproto.Ack(id, 0))
	hb := master.next(locustproto.TypeHeartbeat)
	if get(t, hb, "state") != "running" {
		t.Errorf("heartbeat after reconnect: %v (users keep running through a reconnect)", hb.Data)
	}

	master.send(id, locustproto.Message{Type: locustproto.TypeStop, NodeID: id})
	master.next(locustproto.TypeClientStopped)
	master.next(locustproto.TypeClientReady)
	for {
		hb := master.next(locustproto.TypeHeartbeat)
		if get(t, hb, "state") == "ready" {
			break
		}
	}
	st := master.next(locustproto.TypeStats)
	if uc := get(t, st, "user_count"); uc != int64(0) {
		t.Errorf("user_count %v after stop", uc)
	}
	if !strings.Contains(log.String(), "Received reconnect message from master. Resetting RPC connection.") {
		t.Errorf("log lacks the reconnect line:\n%s", log)
	}
}
