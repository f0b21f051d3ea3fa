package locustproto

import (
	"fmt"
	"sort"
)

// Message types of Locust 2.12.1 (runners.py).
const (
	// Worker → master.
	TypeClientReady      = "client_ready"
	TypeHeartbeat        = "heartbeat"
	TypeSpawning         = "spawning"
	TypeSpawningComplete = "spawning_complete"
	TypeStats            = "stats"
	TypeClientStopped    = "client_stopped"
	TypeException        = "exception"
	// TypeQuit goes both ways: the master tells workers to quit, a worker
	// says it is quitting.
	TypeQuit = "quit"
	// Master → worker.
	TypeAck       = "ack"
	TypeSpawn     = "spawn"
	TypeStop      = "stop"
	TypeReconnect = "reconnect"
)

// Version is the Locust version loadgen speaks and announces in
// client_ready: an upstream 2.12.1 master accepts it silently, Debian's
// (whose version string is empty) with one warning per worker.
const Version = "2.12.1"

// Worker states a heartbeat may carry (the 2.12.1 master knows only these).
const (
	StateReady    = "ready"
	StateSpawning = "spawning"
	StateRunning  = "running"
)

// SortedCounts returns per-class counts as a Map sorted by class name.
func SortedCounts(counts map[string]int64) Map {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	m := make(Map, len(names))
	for i, n := range names {
		m[i] = KV{n, counts[n]}
	}
	return m
}

// ClientReady is the worker's registration, carrying its Locust version.
func ClientReady(nodeID, version string) Message {
	return Message{Type: TypeClientReady, Data: version, NodeID: nodeID}
}

// Heartbeat is the worker's 1-s beat: its state, process CPU usage in
// percent of one core, and resident memory in bytes.
func Heartbeat(nodeID, state string, cpuPercent float64, rssBytes int64) Message {
	return Message{Type: TypeHeartbeat, NodeID: nodeID, Data: Map{
		{"state", state}, {"current_cpu_usage", cpuPercent}, {"current_memory_usage", rssBytes},
	}}
}

// Spawning tells the master a spawn message is being applied.
func Spawning(nodeID string) Message { return Message{Type: TypeSpawning, NodeID: nodeID} }

// SpawningComplete reports the users running per class after a spawn.
func SpawningComplete(nodeID string, counts Map, userCount int64) Message {
	return Message{Type: TypeSpawningComplete, NodeID: nodeID, Data: Map{
		{"user_classes_count", counts}, {"user_count", userCount},
	}}
}

// ClientStopped tells the master the users were stopped after a stop.
func ClientStopped(nodeID string) Message { return Message{Type: TypeClientStopped, NodeID: nodeID} }

// Quit tells the master this worker is leaving (or, from the master, tells
// a worker to quit).
func Quit(nodeID string) Message { return Message{Type: TypeQuit, NodeID: nodeID} }

// Exception reports a user exception: its message and formatted traceback.
func Exception(nodeID, msg, traceback string) Message {
	return Message{Type: TypeException, NodeID: nodeID, Data: Map{{"msg", msg}, {"traceback", traceback}}}
}

// Ack is the master's answer to client_ready with the worker's index.
func Ack(nodeID string, index int64) Message {
	return Message{Type: TypeAck, NodeID: nodeID, Data: Map{{"index", index}}}
}

// AckIndex returns the worker index of an ack's data; ok is false for the
// index-less ack of masters up to 2.10.2.
func AckIndex(data any) (index int64, ok bool) {
	m, _ := data.(Map)
	v, found := m.Get("index")
	if !found {
		return 0, false
	}
	i, ok := v.(int64)
	return i, ok
}

// Spawn is a decoded spawn message: this worker's absolute target per class.
type Spawn struct {
	// Timestamp is the master's time.time() when it sent the message; a
	// worker drops a spawn not newer than the last one it applied.
	Timestamp float64
	// Classes are the target user counts, in the master's order.
	Classes []ClassCount
	// Host is the target host; HasHost is false when the master sent None.
	Host    string
	HasHost bool
	// StopTimeout in seconds; 0 when None.
	StopTimeout float64
	// Tags and ExcludeTags are parsed_options' -T and -E (nil when None).
	Tags, ExcludeTags []string
	// ParsedOptions is the master's whole option set.
	ParsedOptions Map
}

// ClassCount is the number of users of one class.
type ClassCount struct {
	Name  string
	Count int64
}

// ParseSpawn reads the data of a spawn message.
func ParseSpawn(data any) (Spawn, error) {
	m, ok := data.(Map)
	if !ok {
		return Spawn{}, fmt.Errorf("parse spawn: %w: data is %T", ErrMalformed, data)
	}
	var s Spawn
	ts, _ := m.Get("timestamp")
	switch x := ts.(type) {
	case float64:
		s.Timestamp = x
	case int64:
		s.Timestamp = float64(x)
	default:
		return Spawn{}, fmt.Errorf("parse spawn: %w: timestamp is %T", ErrMalformed, ts)
	}
	uc, _ := m.Get("user_classes_count")
	counts, ok := uc.(Map)
	if !ok {
		return Spawn{}, fmt.Errorf("parse spawn: %w: user_classes_count is %T", ErrMalformed, uc)
	}
	for _, kv := range counts {
		name, ok1 := kv.Key.(string)
		n, ok2 := kv.Value.(int64)
		if !ok1 || !ok2 || n < 0 {
			return Spawn{}, fmt.Errorf("parse spawn: %w: user_classes_count entry %v: %v", ErrMalformed, kv.Key, kv.Value)
		}
		s.Classes = append(s.Classes, ClassCount{name, n})
	}
	switch h, _ := m.Get("host"); x := h.(type) {
	case string:
		s.Host, s.HasHost = x, true
	case nil:
	default:
		return Spawn{}, fmt.Errorf("parse spawn: %w: host is %T", ErrMalformed, h)
	}
	switch st, _ := m.Get("stop_timeout"); x := st.(type) {
	case float64:
		s.StopTimeout = x
	case int64:
		s.StopTimeout = float64(x)
	}
	po, _ := m.Get("parsed_options")
	s.ParsedOptions, _ = po.(Map)
	s.Tags = stringList(s.ParsedOptions, "tags")
	s.ExcludeTags = stringList(s.ParsedOptions, "exclude_tags")
	return s, nil
}

func stringList(m Map, key string) []string {
	v, _ := m.Get(key)
	l, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
