package pyjson

import (
	"math"
	"strings"
	"testing"
)

// The expected strings are Python 3.11's repr(f) and json.dumps(s).
func TestFloat(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", 0.5: "0.5", 5.1: "5.1", -2.5: "-2.5", 1234567: "1234567.0",
		1.0 / 3: "0.3333333333333333",
		0.0001:  "0.0001", 0.00001: "1e-05", 0.000012345: "1.2345e-05", 1e16: "1e+16", 2e16: "2e+16",
		math.Inf(1): "Infinity", math.Inf(-1): "-Infinity", math.Copysign(0, -1): "-0.0",
	} {
		if got := Float(f); got != want {
			t.Errorf("Float(%v) = %q, want %q", f, got, want)
		}
	}
	if got := Float(math.NaN()); got != "NaN" {
		t.Errorf("Float(NaN) = %q", got)
	}
}

func TestWriteString(t *testing.T) {
	for s, want := range map[string]string{
		"":                   `""`,
		"GET /a?q=\"x\"\\":   `"GET /a?q=\"x\"\\"`,
		"\n\r\t\b\f\x01\x1f": `"\n\r\t\b\f\u0001\u001f"`,
		"a\x7fb ~":           `"a\u007fb ~"`,
		"é€😀":                `"\u00e9\u20ac\ud83d\ude00"`,
		"bad \xff byte":      `"bad \ufffd byte"`,
		"<script>&'":         `"<script>&'"`,
	} {
		var b strings.Builder
		WriteString(&b, s)
		if b.String() != want {
			t.Errorf("WriteString(%q) = %s, want %s", s, b.String(), want)
		}
	}
}
