// Package predict holds the business logic of the lab's services, written once and
// independent of any HTTP framework or concurrency style: parsing and validating the
// predict body, the model service (a random delay) and the scoring service (a feature
// lookup, fan-out model calls, their mean).
//
// The logic runs on a Runtime supplied by an executor: the Runtime decides where CPU
// work runs (in a worker, or as a callback on an event loop) and how waits are made
// (one after another in the worker, or concurrently off the loop).
package predict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
)

// MaxInputs is the largest number of values a predict body may hold.
const MaxInputs = 64

// InputError is a rejected request body. Status is the HTTP status to answer with
// (400 for bodies that are not JSON, 422 for JSON of the wrong shape).
type InputError struct {
	Status int
	Msg    string
}

// Error is the message for the client.
func (e *InputError) Error() string { return e.Msg }

func badRequest(format string, args ...any) *InputError {
	return &InputError{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

func unprocessable(format string, args ...any) *InputError {
	return &InputError{Status: http.StatusUnprocessableEntity, Msg: fmt.Sprintf(format, args...)}
}

// ParseBody parses a predict body: a JSON array of 1 to MaxInputs finite numbers,
// e.g. [5.1, 3.5, 1.4, 0.2]. On failure it returns an *InputError that says what
// was wrong. It never panics, whatever the input.
//
// A body longer than smallBody is read token by token, stopping at the first
// problem: past MaxInputs values, or at an element that is not a number,
// without reading the rest. So a body of up to the server's limit (1 MiB) costs
// little more than one of MaxInputs values — parsing runs on the event loop.
// The price: such a body that is both malformed and of the wrong shape before
// its syntax error is named for its shape (422), not its syntax (400).
func ParseBody(body []byte) ([]float64, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, badRequest("empty body: expected a JSON array of numbers")
	}
	if len(trimmed) <= smallBody {
		return parseSmall(trimmed)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed()
	}
	if tok != json.Delim('[') {
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			// A scalar is the whole body, or the body is malformed.
			if !atEOF(dec) {
				return nil, malformed()
			}
		}
		return nil, unprocessable("body must be a JSON array of numbers, got %s", jsonKind(trimmed[0]))
	}
	out := make([]float64, 0, 8)
	for i := 0; dec.More(); i++ {
		if i == MaxInputs {
			return nil, unprocessable("array too long: more than %d values", MaxInputs)
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed()
		}
		n, ok := tok.(json.Number)
		if !ok {
			return nil, unprocessable("element %d is not a number: got %s", i, tokenKind(tok))
		}
		v, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, unprocessable("element %d is not a finite number", i)
		}
		out = append(out, v)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') || !atEOF(dec) {
		return nil, malformed()
	}
	if len(out) == 0 {
		return nil, unprocessable("array is empty: expected 1 to %d numbers", MaxInputs)
	}
	return out, nil
}

// smallBody is the longest body decoded in one pass (faster for the bodies the
// lab sends; at most ~500 values to decode).
const smallBody = 1 << 10

// parseSmall decodes a small body in one pass: Unmarshal checks the whole body
// is valid JSON before decoding (a *json.SyntaxError otherwise), so no separate
// json.Valid scan. trimmed is not empty.
func parseSmall(trimmed []byte) ([]float64, error) {
	var raw []json.RawMessage
	err := json.Unmarshal(trimmed, &raw)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return nil, badRequest("malformed JSON: expected a JSON array of numbers")
	}
	if trimmed[0] != '[' { // valid JSON of another kind (null decodes without error)
		return nil, unprocessable("body must be a JSON array of numbers, got %s", jsonKind(trimmed[0]))
	}
	if err != nil {
		return nil, badRequest("malformed JSON: %v", err)
	}
	if len(raw) == 0 {
		return nil, unprocessable("array is empty: expected 1 to %d numbers", MaxInputs)
	}
	if len(raw) > MaxInputs {
		return nil, unprocessable("array too long: %d values, at most %d allowed", len(raw), MaxInputs)
	}
	out := make([]float64, len(raw))
	for i, r := range raw {
		r = bytes.TrimSpace(r)
		if len(r) == 0 || !(r[0] == '-' || (r[0] >= '0' && r[0] <= '9')) {
			return nil, unprocessable("element %d is not a number: got %s", i, jsonKind(firstByte(r)))
		}
		v, err := strconv.ParseFloat(string(r), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, unprocessable("element %d is not a finite number", i)
		}
		out[i] = v
	}
	return out, nil
}

func firstByte(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

func malformed() *InputError {
	return badRequest("malformed JSON: expected a JSON array of numbers")
}

// atEOF reports whether dec has nothing but whitespace left.
func atEOF(dec *json.Decoder) bool {
	_, err := dec.Token()
	return errors.Is(err, io.EOF)
}

// tokenKind names the JSON type of a token (for error messages).
func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "an unknown value"
}

// jsonKind names the JSON type that starts with c (for error messages).
func jsonKind(c byte) string {
	switch {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	default:
		return "an unknown value"
	}
}

// FeatureKey is the feature-store key of an input vector, e.g.
// "features:5.1,3.5,1.4,0.2".
func FeatureKey(in []float64) string {
	b := make([]byte, 0, 9+len(in)*6)
	b = append(b, "features:"...)
	for i, v := range in {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return string(b)
}
