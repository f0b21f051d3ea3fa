// Package locustproto is Locust 2.12's master/worker message format: each
// message is a msgpack 3-array [type, data, node_id] (locust/rpc/protocol.py),
// data being Python values (None, bool, int, float, str, list, dict with str,
// int or float keys). Encode writes exactly the bytes Debian's python3-msgpack
// writes for the same Python value (smallest int encoding, float64 for every
// float, str8 for 32-255 byte strings, dict keys in insertion order); Decode
// reads any of them back, keeping int and float apart and map keys in order.
//
// The package only converts; sending is the transport's job (package
// locustrpc). Everything here is safe for concurrent use.
package locustproto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Message is one protocol message. Data holds a Python value as described
// in Value; NodeID is the worker's client id (the ZeroMQ identity).
type Message struct {
	Type   string
	Data   any
	NodeID string
}

// KV is one key/value pair of a Map.
type KV struct {
	Key   any // string, int64 or float64
	Value any
}

// Map is a Python dict: pairs in insertion order, which msgpack keeps on
// the wire. Keys are unique; the builder is responsible for that.
//
// The values a Message's Data may hold, and Decode returns, are: nil (None),
// bool, int64 (int; Encode also takes int), float64 (float), string (str),
// []any (list or tuple), Map (dict). Encode also accepts []string,
// map[string]int64 and map[string]int, written with sorted keys.
type Map []KV

// Get returns the value under the string key k.
func (m Map) Get(k string) (any, bool) {
	for _, kv := range m {
		if s, ok := kv.Key.(string); ok && s == k {
			return kv.Value, true
		}
	}
	return nil, false
}

// Encode returns msgpack.dumps((type, data, node_id)) of m.
func Encode(m Message) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	if err := enc.EncodeArrayLen(3); err != nil {
		return nil, fmt.Errorf("encode message: %w", err)
	}
	if err := enc.EncodeString(m.Type); err != nil {
		return nil, fmt.Errorf("encode message: %w", err)
	}
	if err := encodeValue(enc, m.Data); err != nil {
		return nil, fmt.Errorf("encode %s message: %w", m.Type, err)
	}
	if err := enc.EncodeString(m.NodeID); err != nil {
		return nil, fmt.Errorf("encode message: %w", err)
	}
	return buf.Bytes(), nil
}

// encodeString writes s as Python's str: invalid UTF-8 would make the
// 2.12.1 master answer "reconnect" (it decodes with raw=False), so it is
// replaced as Python's errors="replace" would.
func encodeString(enc *msgpack.Encoder, s string) error {
	return enc.EncodeString(strings.ToValidUTF8(s, "\uFFFD"))
}

func encodeValue(enc *msgpack.Encoder, v any) error {
	switch x := v.(type) {
	case nil:
		return enc.EncodeNil()
	case bool:
		return enc.EncodeBool(x)
	case int:
		return enc.EncodeInt(int64(x))
	case int64:
		return enc.EncodeInt(x)
	case float64:
		return enc.EncodeFloat64(x)
	case string:
		return encodeString(enc, x)
	case []any:
		if err := enc.EncodeArrayLen(len(x)); err != nil {
			return err
		}
		for _, e := range x {
			if err := encodeValue(enc, e); err != nil {
				return err
			}
		}
		return nil
	case []string:
		if err := enc.EncodeArrayLen(len(x)); err != nil {
			return err
		}
		for _, e := range x {
			if err := encodeString(enc, e); err != nil {
				return err
			}
		}
		return nil
	case Map:
		if err := enc.EncodeMapLen(len(x)); err != nil {
			return err
		}
		for _, kv := range x {
			switch kv.Key.(type) {
			case string, int, int64, float64, bool, nil:
			default:
				return fmt.Errorf("encode map key %v: unsupported type %T", kv.Key, kv.Key)
			}
			if err := encodeValue(enc, kv.Key); err != nil {
				return err
			}
			if err := encodeValue(enc, kv.Value); err != nil {
				return err
			}
		}
		return nil
	case map[string]int64:
		return encodeValue(enc, SortedCounts(x))
	case map[string]int:
		m := make(map[string]int64, len(x))
		for k, n := range x {
			m[k] = int64(n)
		}
		return encodeValue(enc, SortedCounts(m))
	default:
		return fmt.Errorf("encode value: unsupported type %T", v)
	}
}

// ErrMalformed is wrapped by every Decode error about the message's shape.
var ErrMalformed = errors.New("malformed message")

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 64

// Decode parses one message as Locust's Message.unserialize does
// (msgpack.loads(raw=False, strict_map_key=False), then a 3-sequence).
func Decode(b []byte) (Message, error) {
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return Message{}, fmt.Errorf("decode message: %w: %w", ErrMalformed, err)
	}
	if n != 3 {
		return Message{}, fmt.Errorf("decode message: %w: array of %d, want 3", ErrMalformed, n)
	}
	typ, err := dec.DecodeString()
	if err == nil && !utf8.ValidString(typ) {
		err = fmt.Errorf("type is not valid UTF-8")
	}
	if err != nil {
		return Message{}, fmt.Errorf("decode message type: %w: %w", ErrMalformed, err)
	}
	data, err := decodeValue(dec, 0)
	if err != nil {
		return Message{}, fmt.Errorf("decode %s data: %w: %w", typ, ErrMalformed, err)
	}
	id, err := decodeValue(dec, 0)
	if err != nil {
		return Message{}, fmt.Errorf("decode %s node id: %w: %w", typ, ErrMalformed, err)
	}
	var node string
	switch x := id.(type) {
	case string:
		node = x
	case nil: // Python's master never sends None, but tolerate it
	default:
		return Message{}, fmt.Errorf("decode %s node id: %w: %T", typ, ErrMalformed, id)
	}
	if _, err := dec.PeekCode(); err != io.EOF {
		return Message{}, fmt.Errorf("decode %s: %w: extra data", typ, ErrMalformed)
	}
	return Message{Type: typ, Data: data, NodeID: node}, nil
}

func decodeValue(dec *msgpack.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxDepth)
	}
	c, err := dec.PeekCode()
	if err != nil {
		return nil, err
	}
	switch {
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err := dec.DecodeMapLen()
		if err != nil {
			return nil, err
		}
		m := make(Map, 0, min(n, 1024))
		for range n {
			k, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			switch k.(type) {
			case string, int64, float64, bool, nil:
			default:
				return nil, fmt.Errorf("unhashable map key %T", k)
			}
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			m = append(m, KV{k, v})
		}
		return m, nil
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := dec.DecodeArrayLen()
		if err != nil {
			return nil, err
		}
		a := make([]any, 0, min(n, 1024))
		for range n {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		return a, nil
	case msgpcode.IsString(c):
		s, err := dec.DecodeString()
		if err == nil && !utf8.ValidString(s) {
			// Python's raw=False raises on it (the master answers reconnect).
			return nil, fmt.Errorf("string is not valid UTF-8")
		}
		return s, err
	case c == msgpcode.Float || c == msgpcode.Double:
		return dec.DecodeFloat64()
	case c == msgpcode.Nil:
		return nil, dec.DecodeNil()
	case c == msgpcode.True || c == msgpcode.False:
		return dec.DecodeBool()
	case msgpcode.IsFixedNum(c) || (c >= msgpcode.Uint8 && c <= msgpcode.Int64):
		if c == msgpcode.Uint64 {
			u, err := dec.DecodeUint64()
			if err != nil {
				return nil, err
			}
			if u > math.MaxInt64 {
				return nil, fmt.Errorf("integer %d out of range", u)
			}
			return int64(u), nil
		}
		return dec.DecodeInt64()
	default:
		return nil, fmt.Errorf("unsupported msgpack code 0x%02x", c)
	}
}
