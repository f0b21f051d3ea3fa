package locustproto

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The golden files are msgpack.dumps((type, data, node_id)) from Debian's
// python3-msgpack, written by testdata/gen_golden.py (its docstring has the
// command); spawn_captured.msgpack is a real 2.12.1 master's spawn, captured
// by testdata/capture_spawn.py.

const node = "myhost_0123456789abcdef0123456789abcdef"

func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name+".msgpack"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodeGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  Message
	}{
		{"client_ready", ClientReady(node, Version)},
		{"client_ready_debian", ClientReady(node, "")},
		{"client_ready_boomer", Message{Type: TypeClientReady, Data: -1, NodeID: node}},
		{"heartbeat", Heartbeat(node, StateRunning, 12.5, 52428800)},
		{"heartbeat_ready", Heartbeat(node, StateReady, 0, 7340032)},
		{"spawning", Spawning(node)},
		{"spawning_complete", SpawningComplete(node, SortedCounts(map[string]int64{"ApiSyncUser": 50, "ApiAsyncUser": 0}), 50)},
		{"client_stopped", ClientStopped(node)},
		{"quit_worker", Quit(node)},
		{"quit_master", Quit(node)},
		{"exception", Exception(node, "Unknown user class 'NoSuchUser' (loadgen knows ApiAsyncUser, ApiSyncUser)",
			"  loadgen worker: unknown user class 'NoSuchUser'\n")},
		{"ack", Ack(node, 1)},
		{"stop", Message{Type: TypeStop, NodeID: node}},
		{"reconnect", Message{Type: TypeReconnect, NodeID: node}},
		{"spawn", Message{Type: TypeSpawn, NodeID: node, Data: Map{
			{"timestamp", 1700000000.123456},
			{"user_classes_count", Map{{"ApiSyncUser", int64(50)}}},
			{"host", "http://127.0.0.1:8001"},
			{"stop_timeout", nil},
			{"parsed_options", Map{{"headless", true}, {"tags", []string{"predict"}}, {"exclude_tags", nil},
				{"num_users", 100}, {"spawn_rate", 100.0}, {"run_time", 20}, {"expect_workers", 2}}},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Encode(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if want := golden(t, tt.name); !bytes.Equal(got, want) {
				t.Errorf("Encode:\n got %x\nwant %x", got, want)
			}
		})
	}
}

// Every golden message decodes and encodes back to the same bytes: ints stay
// ints, floats floats (also as map keys), None nil and dict order is kept.
func TestDecodeRoundTrip(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.msgpack"))
	if err != nil || len(files) < 10 {
		t.Fatalf("golden files: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, raw) {
				t.Errorf("round trip:\n got %x\nwant %x", back, raw)
			}
		})
	}
}

func TestParseSpawnCaptured(t *testing.T) {
	t.Parallel()
	m, err := Decode(golden(t, "spawn_captured"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != TypeSpawn || m.NodeID != "capture_00000000000000000000000000000000" {
		t.Fatalf("type %q node %q", m.Type, m.NodeID)
	}
	s, err := ParseSpawn(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	if s.Timestamp != 1796006142.4006186 || !s.HasHost || s.Host != "http://127.0.0.1:9" || s.StopTimeout != 0 ||
		s.Tags != nil || s.ExcludeTags != nil {
		t.Errorf("spawn = %+v", s)
	}
	if want := []ClassCount{{"ApiSyncUser", 3}}; !reflect.DeepEqual(s.Classes, want) {
		t.Errorf("classes = %v, want %v", s.Classes, want)
	}
	if v, _ := s.ParsedOptions.Get("expect_workers"); v != int64(1) {
		t.Errorf("parsed_options.expect_workers = %#v", v)
	}
}

func TestParseSpawn(t *testing.T) {
	t.Parallel()
	m, err := Decode(golden(t, "spawn"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSpawn(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Tags, []string{"predict"}) || s.ExcludeTags != nil {
		t.Errorf("tags %q exclude %q", s.Tags, s.ExcludeTags)
	}
	bad := []struct {
		name string
		data any
	}{
		{"not a map", "x"},
		{"no timestamp", Map{{"user_classes_count", Map{}}}},
		{"no counts", Map{{"timestamp", 1.0}}},
		{"negative count", Map{{"timestamp", 1.0}, {"user_classes_count", Map{{"A", int64(-1)}}}}},
		{"float count", Map{{"timestamp", 1.0}, {"user_classes_count", Map{{"A", 1.5}}}}},
		{"host int", Map{{"timestamp", 1.0}, {"user_classes_count", Map{}}, {"host", int64(3)}}},
	}
	for _, b := range bad {
		if _, err := ParseSpawn(b.data); err == nil {
			t.Errorf("%s: no error", b.name)
		}
	}
}

func TestAckIndex(t *testing.T) {
	t.Parallel()
	m, err := Decode(golden(t, "ack"))
	if err != nil {
		t.Fatal(err)
	}
	if i, ok := AckIndex(m.Data); !ok || i != 1 {
		t.Errorf("AckIndex = %d, %v", i, ok)
	}
	if _, ok := AckIndex(nil); ok {
		t.Error("AckIndex(nil) ok")
	}
}

func TestEncodeInvalidUTF8(t *testing.T) {
	t.Parallel()
	b, err := Encode(Exception(node, "bad \xff byte", ""))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Data.(Map).Get("msg"); v != "bad \uFFFD byte" {
		t.Errorf("msg = %q", v)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for name, b := range map[string][]byte{
		"empty":       {},
		"not array":   {0xa1, 'x'},
		"2-array":     {0x92, 0xa1, 'x', 0xc0},
		"extra data":  append(golden(t, "stop"), 0xc0),
		"int node id": {0x93, 0xa1, 'x', 0xc0, 0x01},
		"truncated":   golden(t, "spawn")[:40],
		"bin data":    {0x93, 0xa1, 'x', 0xc4, 0x01, 0x00, 0xa1, 'n'},
	} {
		if _, err := Decode(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.msgpack"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		// The readers of master messages must not panic on any data.
		_, _ = ParseSpawn(m.Data)
		_, _ = AckIndex(m.Data)
		// What decodes must encode, and decode again to the same message.
		back, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode(Decode(%x)): %v", b, err)
		}
		m2, err := Decode(back)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%x))): %v", b, err)
		}
		if !reflect.DeepEqual(m, m2) && !hasNaN(m.Data) {
			t.Fatalf("round trip changed %#v to %#v", m, m2)
		}
	})
}

func hasNaN(v any) bool {
	switch x := v.(type) {
	case float64:
		return x != x
	case []any:
		for _, e := range x {
			if hasNaN(e) {
				return true
			}
		}
	case Map:
		for _, kv := range x {
			if hasNaN(kv.Key) || hasNaN(kv.Value) {
				return true
			}
		}
	}
	return false
}
