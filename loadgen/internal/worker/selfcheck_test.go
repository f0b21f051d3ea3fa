package worker

import (
	"testing"

	"predictlab/loadgen/internal/locustproto"
	"predictlab/loadgen/internal/locuststats"
)

// To a loadgen master (its ack asks for exact histograms) a worker sends,
// with every report, its self-check and the seconds it sampled since the
// previous report: each once, in order, with its users.
func TestWorkerSendsSelfCheckSeconds(t *testing.T) {
	t.Parallel()
	target, _ := stub(t)
	master := newFakeMaster(t, "127.0.0.1:0")
	startWorker(t, master.srv.Addr().String(), &syncBuf{})
	id := <-master.ids
	ack := locustproto.Ack(id, 0)
	ack.Data = append(ack.Data.(locustproto.Map), locustproto.KV{Key: "loadgen", Value: locustproto.Map{{Key: "hdr", Value: int64(1)}}})
	master.send(id, ack)
	master.send(id, spawnMsg(id, 1, target.URL, "ApiSyncUser", 2))
	master.next(locustproto.TypeSpawningComplete)

	var points, last int64
	for reports := 0; reports < 5; {
		st := master.next(locustproto.TypeStats)
		if get(t, st, "user_count") != int64(2) {
			continue // sent before the spawn
		}
		sc, ok := locuststats.DecodeSelfCheck(st.Data.(locustproto.Map))
		if !ok {
			t.Fatalf("report without a self-check: %v", st.Data)
		}
		reports++
		for _, p := range sc.Timeline {
			if p.Timestamp < last {
				t.Errorf("second %d after %d: sent again or out of order", p.Timestamp, last)
			}
			if p.Users != 2 {
				t.Errorf("point %+v, want 2 users", p)
			}
			last = p.Timestamp
			points++
		}
	}
	// Five reports 300 ms apart, a sample every 100 ms heartbeat.
	if points < 5 {
		t.Errorf("%d points in five reports", points)
	}
}
