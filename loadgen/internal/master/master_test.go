package master

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"predictlab/internal/loadgenjson"
	"predictlab/loadgen/internal/locustproto"
	"predictlab/loadgen/internal/locustrpc"
	"predictlab/loadgen/internal/locuststats"
	"predictlab/loadgen/internal/stats"
	"predictlab/loadgen/internal/users"
)

// waitFor polls cond until it holds, failing after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func state(m *Master, id string) string {
	for _, w := range m.Workers() {
		if w.ID == id {
			return w.State
		}
	}
	return ""
}

// A worker with Debian's empty version is accepted and acked with its
// index and the request for exact histograms; without heartbeats it goes
// missing, a heartbeat heals it; its stats reports are merged; quit
// removes it.
func TestWorkerLifecycle(t *testing.T) {
	t.Parallel()
	st := stats.New(time.Now)
	m, err := Listen(Options{BindAddr: "127.0.0.1:0", Classes: []users.Class{{Name: "A", Weight: 1}}, Stats: st,
		Log: zerolog.Nop(), HeartbeatInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	const id = "host_0123"
	c, err := locustrpc.Dial(context.Background(), m.Addr(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(locustproto.ClientReady(id, "")); err != nil {
		t.Fatal(err)
	}
	ack, err := c.Recv()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := ack.Data.(locustproto.Map)
	if i, ok := locustproto.AckIndex(data); ack.Type != locustproto.TypeAck || !ok || i != 0 {
		t.Fatalf("ack %+v", ack)
	}
	if _, ok := data.Get("loadgen"); !ok {
		t.Errorf("ack without the loadgen key: %v", data)
	}
	if err := m.WaitForWorkers(context.Background(), 1, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	waitFor(t, "missing state", func() bool { return state(m, id) == StateMissing })
	if err := c.Send(locustproto.Heartbeat(id, "ready", 1, 2)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "self-healing", func() bool { return state(m, id) == StateReady })

	stat := locustproto.Message{Type: locustproto.TypeStats, NodeID: id, Data: locustproto.Map{
		{Key: "stats", Value: []any{locustproto.Map{
			{Key: "name", Value: "/x"}, {Key: "method", Value: "GET"}, {Key: "num_requests", Value: int64(3)},
			{Key: "num_failures", Value: int64(1)}, {Key: "total_response_time", Value: 30.0},
			{Key: "min_response_time", Value: 5.0}, {Key: "max_response_time", Value: 15.0},
			{Key: "total_content_length", Value: int64(9)}, {Key: "last_request_timestamp", Value: 1700000000.5},
			{Key: "response_times", Value: locustproto.Map{{Key: int64(5), Value: int64(1)}, {Key: int64(10), Value: int64(1)}, {Key: int64(15), Value: int64(1)}}},
			{Key: "num_reqs_per_sec", Value: locustproto.Map{{Key: int64(1700000000), Value: int64(3)}}},
			{Key: "num_fail_per_sec", Value: locustproto.Map{{Key: int64(1700000000), Value: int64(1)}}},
		}}},
		{Key: "errors", Value: locustproto.Map{{Key: "k", Value: locustproto.Map{
			{Key: "name", Value: "/x"}, {Key: "method", Value: "GET"}, {Key: "error", Value: "boom"}, {Key: "occurrences", Value: int64(1)},
		}}}},
		{Key: "user_classes_count", Value: locustproto.Map{{Key: "A", Value: int64(2)}}},
		{Key: "user_count", Value: int64(2)},
		{Key: locuststats.SelfCheckKey, Value: locuststats.EncodeSelfCheck(loadgenjson.SelfCheck{Valid: false,
			MaxCPUPercent: 97.5, MaxScheduleLagMS: 41.25, ScheduledRequests: 200, LateRequests: 9,
			Timeline: []loadgenjson.Point{{Timestamp: 1700000000, Users: 2, CPUPercent: 97.5, MaxLagMS: 41.25, ScheduledRequests: 200, LateRequests: 9}}})},
	}}
	if err := c.Send(stat); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "merged report", func() bool { return st.Snapshot().Total.NumRequests == 3 })
	tot := st.Snapshot().Total
	if tot.NumFailures != 1 || tot.Min() != 5 || tot.Max() != 15 || tot.Avg() != 10 || m.UserCount() != 2 {
		t.Errorf("merged %+v, users %d", *tot, m.UserCount())
	}
	if f := st.Snapshot().Failures; len(f) != 1 || f[0].Error != "boom" || f[0].Occurrences != 1 {
		t.Errorf("failures %+v", f)
	}

	if err := c.Send(locustproto.Quit(id)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "removal on quit", func() bool { return len(m.Workers()) == 0 })
	// The worker's self-check outlives it: it is the run's verdict.
	sc := m.SelfCheck(loadgenjson.SelfCheck{Valid: true, MaxCPUPercent: 1})
	if sc.Valid || sc.Worker != id+" (index 0)" || sc.MaxCPUPercent != 97.5 || sc.MaxScheduleLagMS != 41.25 || sc.LateRequests != 9 || sc.ScheduledRequests != 200 {
		t.Errorf("run's self-check %+v, want the worker's", sc)
	}
	if len(sc.Timeline) != 1 || sc.Timeline[0].Users != 2 || sc.Timeline[0].LateRequests != 9 || sc.TimelineSource != loadgenjson.TimelineWorkers {
		t.Errorf("run's timeline %+v (%q), want the worker's second", sc.Timeline, sc.TimelineSource)
	}
}

// WaitForWorkers gives up after its maximum wait.
func TestWaitForWorkersGivesUp(t *testing.T) {
	t.Parallel()
	m, err := Listen(Options{BindAddr: "127.0.0.1:0", Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.WaitForWorkers(context.Background(), 1, time.Millisecond); err != ErrGaveUp {
		t.Errorf("WaitForWorkers = %v, want ErrGaveUp", err)
	}
}

// A Quit right after a Stop reaches the worker that has answered the stop
// (client_stopped, so it is out of the worker list) but whose client_ready is
// not there yet; Quit waits for that worker's quit instead of returning at once
// and closing the socket under it.
func TestQuitReachesAStoppedWorker(t *testing.T) {
	t.Parallel()
	m, err := Listen(Options{BindAddr: "127.0.0.1:0", Classes: []users.Class{{Name: "A", Weight: 1}}, Stats: stats.New(time.Now), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	const id = "host_stopped"
	c, err := locustrpc.Dial(context.Background(), m.Addr(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	recv := func(want string) {
		t.Helper()
		got := make(chan locustproto.Message, 1)
		go func() {
			if msg, err := c.Recv(); err == nil {
				got <- msg
			}
		}()
		select {
		case msg := <-got:
			if msg.Type != want {
				t.Fatalf("worker received %q, want %q", msg.Type, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("worker received no %q within 5 s", want)
		}
	}
	if err := c.Send(locustproto.ClientReady(id, "2.12.1")); err != nil {
		t.Fatal(err)
	}
	recv(locustproto.TypeAck)
	if err := m.WaitForWorkers(context.Background(), 1, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	stopped := make(chan struct{})
	go func() { m.Stop(); close(stopped) }()
	recv(locustproto.TypeStop)
	if err := c.Send(locustproto.Message{Type: locustproto.TypeClientStopped, NodeID: id}); err != nil {
		t.Fatal(err)
	}
	<-stopped

	quit := make(chan struct{})
	go func() { m.Quit(); close(quit) }()
	recv(locustproto.TypeQuit)
	select {
	case <-quit:
		t.Fatal("Quit returned before the worker answered")
	default:
	}
	// The client_ready the stop asked for arrives late, then the answer to the quit.
	for _, msg := range []locustproto.Message{locustproto.ClientReady(id, "2.12.1"), locustproto.Quit(id)} {
		if err := c.Send(msg); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-quit:
	case <-time.After(5 * time.Second):
		t.Fatal("Quit did not return after the worker's quit")
	}
}
