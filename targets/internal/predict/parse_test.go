package predict

import (
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

func TestParseBody(t *testing.T) {
	long := "[" + strings.Repeat("1,", MaxInputs) + "1]"
	max := "[" + strings.Repeat("1,", MaxInputs-1) + "1]"
	tests := []struct {
		name   string
		body   string
		want   []float64
		status int    // 0 = success
		msg    string // substring of the error
	}{
		{name: "seed input", body: "[5.1, 3.5, 1.4, 0.2]", want: []float64{5.1, 3.5, 1.4, 0.2}},
		{name: "one value", body: " [1] \n", want: []float64{1}},
		{name: "negative and exponent", body: "[-1e-3, 2E2]", want: []float64{-0.001, 200}},
		{name: "64 values", body: max, want: nil},
		{name: "empty", body: "", status: http.StatusBadRequest, msg: "empty body"},
		{name: "blank", body: "  \n", status: http.StatusBadRequest, msg: "empty body"},
		{name: "malformed", body: "[1, 2", status: http.StatusBadRequest, msg: "malformed JSON"},
		{name: "trailing garbage", body: "[1] x", status: http.StatusBadRequest, msg: "malformed JSON"},
		{name: "bare NaN", body: "[NaN]", status: http.StatusBadRequest, msg: "malformed JSON"},
		{name: "not JSON", body: "hello", status: http.StatusBadRequest, msg: "malformed JSON"},
		{name: "object", body: `{"x": [1]}`, status: http.StatusUnprocessableEntity, msg: "got an object"},
		{name: "number", body: "5", status: http.StatusUnprocessableEntity, msg: "got a number"},
		{name: "string", body: `"[1]"`, status: http.StatusUnprocessableEntity, msg: "got a string"},
		{name: "null", body: "null", status: http.StatusUnprocessableEntity, msg: "got null"},
		{name: "empty array", body: "[]", status: http.StatusUnprocessableEntity, msg: "array is empty"},
		{name: "too long", body: long, status: http.StatusUnprocessableEntity, msg: "array too long"},
		{name: "string element", body: `[1, "2"]`, status: http.StatusUnprocessableEntity, msg: "element 1 is not a number: got a string"},
		{name: "NaN string", body: `["NaN"]`, status: http.StatusUnprocessableEntity, msg: "element 0 is not a number"},
		{name: "null element", body: `[null]`, status: http.StatusUnprocessableEntity, msg: "got null"},
		{name: "nested array", body: `[[1]]`, status: http.StatusUnprocessableEntity, msg: "got an array"},
		{name: "bool element", body: `[true]`, status: http.StatusUnprocessableEntity, msg: "got a boolean"},
		{name: "overflow", body: `[1e400]`, status: http.StatusUnprocessableEntity, msg: "not a finite number"},
	}
	// Each array case again, padded past smallBody: the streaming path agrees.
	for _, tt := range tests[:len(tests):len(tests)] {
		if strings.HasPrefix(tt.body, "[") {
			tt.name += " (streamed)"
			tt.body = "[" + strings.Repeat(" ", smallBody) + tt.body[1:]
			tests = append(tests, tt)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBody([]byte(tt.body))
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("ParseBody(%q) error %v", tt.body, err)
				}
				if tt.want != nil && !equal(got, tt.want) {
					t.Fatalf("ParseBody(%q) = %v, want %v", tt.body, got, tt.want)
				}
				return
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("ParseBody(%q) error %v, want *InputError", tt.body, err)
			}
			if ie.Status != tt.status || !strings.Contains(ie.Msg, tt.msg) {
				t.Fatalf("ParseBody(%q) = %d %q, want %d containing %q", tt.body, ie.Status, ie.Msg, tt.status, tt.msg)
			}
		})
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFeatureKey(t *testing.T) {
	if got, want := FeatureKey([]float64{5.1, 3.5, 1.4, 0.2}), "features:5.1,3.5,1.4,0.2"; got != want {
		t.Fatalf("FeatureKey = %q, want %q", got, want)
	}
}

// maxArray is a body of zeros just under the servers' 1 MiB limit.
func maxArray() []byte {
	return []byte("[" + strings.Repeat("0,", (1<<20)/2-2) + "0]")
}

// A 1 MiB array is refused after MaxInputs values, without decoding the rest: it
// allocates about what a normal body does (before: ~500k RawMessages, tens of MB).
func TestParseBodyMaxArrayIsCheap(t *testing.T) {
	body := maxArray()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		if _, err := ParseBody(body); err == nil || !strings.Contains(err.Error(), "array too long") {
			t.Fatalf("1 MiB array: %v, want 'array too long'", err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 10; per > 64<<10 {
		t.Fatalf("a 1 MiB array allocates %d bytes per parse, want < 64 KiB", per)
	}
}

func BenchmarkParseBody(b *testing.B) {
	for _, bc := range []struct {
		name string
		body []byte
	}{{"seed", []byte("[5.1, 3.5, 1.4, 0.2]")}, {"max-array", maxArray()}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = ParseBody(bc.body)
			}
		})
	}
}
