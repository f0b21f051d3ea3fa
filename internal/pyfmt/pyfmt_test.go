package pyfmt

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The expected strings in these tests are Python 3.11's output for the same
// values.

func TestFloat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in         float64
		repr, json string
	}{
		{0.0, "0.0", "0.0"},
		{math.Copysign(0, -1), "-0.0", "-0.0"},
		{51.0, "51.0", "51.0"},
		{0.1, "0.1", "0.1"},
		{5.1, "5.1", "5.1"},
		{1e16, "1e+16", "1e+16"},
		{2e16, "2e+16", "2e+16"},
		{1e15, "1000000000000000.0", "1000000000000000.0"},
		{1234567, "1234567.0", "1234567.0"},
		{1.2345678901234568e+17, "1.2345678901234568e+17", "1.2345678901234568e+17"},
		{1.5e-05, "1.5e-05", "1.5e-05"},
		{0.00001, "1e-05", "1e-05"},
		{0.0001, "0.0001", "0.0001"},
		{0.00012345, "0.00012345", "0.00012345"},
		{122.76503368701468, "122.76503368701468", "122.76503368701468"},
		{1.0 / 3, "0.3333333333333333", "0.3333333333333333"},
		{2.5e22, "2.5e+22", "2.5e+22"},
		{-1234.5, "-1234.5", "-1234.5"},
		{5e-324, "5e-324", "5e-324"},
		{1.7976931348623157e308, "1.7976931348623157e+308", "1.7976931348623157e+308"},
		{1e100, "1e+100", "1e+100"},
		{16.046153846153846, "16.046153846153846", "16.046153846153846"},
		{math.NaN(), "nan", "NaN"},
		{math.Inf(1), "inf", "Infinity"},
		{math.Inf(-1), "-inf", "-Infinity"},
	}
	for _, tt := range tests {
		if got := Float(tt.in); got != tt.repr {
			t.Errorf("Float(%v) = %q, want %q", tt.in, got, tt.repr)
		}
		if got := string(AppendFloat([]byte("x"), tt.in)); got != "x"+tt.repr {
			t.Errorf("AppendFloat(x, %v) = %q, want %q", tt.in, got, "x"+tt.repr)
		}
		if got := JSONFloat(tt.in); got != tt.json {
			t.Errorf("JSONFloat(%v) = %q, want %q", tt.in, got, tt.json)
		}
	}
}

func TestRepr(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain", "abc", `'abc'`},
		{"single quote only", "HTTPError('x')", `"HTTPError('x')"`},
		{"both quotes", `a'b"c`, `'a\'b"c'`},
		{"it's", `it's`, `"it's"`},
		{"whitespace escapes", "tab\there\n\r", `'tab\there\n\r'`},
		{"backslash", `back\slash`, `'back\\slash'`},
		{"C0 and printable latin-1", "\x01é", `'\x01é'`},
		{"DEL", "a\x7fb", `'a\x7fb'`},
		// C1 controls and bidi overrides must not reach a terminal raw.
		{"C1 CSI and RLO", "\u009b2J\u202e", `'\x9b2J\u202e'`},
		{"NBSP", "a\u00a0b", `'a\xa0b'`},
		{"line separator", "a\u2028b", `'a\u2028b'`},
		{"astral unassigned", "\U000e0001", `'\U000e0001'`},
		{"emoji stays", "😀€", `'😀€'`},
		{"invalid UTF-8", "bad \xff", `'bad \xff'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Repr(tt.in); got != tt.want {
				t.Errorf("Repr(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestWriteJSONString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", `""`},
		{"GET /a?q=\"x\"\\", `"GET /a?q=\"x\"\\"`},
		{"\n\r\t\b\f\x01\x1f", `"\n\r\t\b\f\u0001\u001f"`},
		{"a\x7fb ~", `"a\u007fb ~"`},
		{"é€😀", `"\u00e9\u20ac\ud83d\ude00"`},
		{"bad \xff byte", `"bad \ufffd byte"`},
		{"<script>&'", `"<script>&'"`},
	}
	for _, tt := range tests {
		var b strings.Builder
		WriteJSONString(&b, tt.in)
		if b.String() != tt.want {
			t.Errorf("WriteJSONString(%q) = %s, want %s", tt.in, b.String(), tt.want)
		}
	}
}

func TestStrOfJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want string
		ok   bool
	}{
		{`"a b"`, "a b", true},
		{`true`, "True", true},
		{`false`, "False", true},
		{`null`, "None", true},
		{`42`, "42", true},
		{`-7`, "-7", true},
		{`1.5`, "1.5", true},
		{`[1]`, "", false},
		{`{"a":1}`, "", false},
		{`nope`, "", false},
	}
	for _, tt := range tests {
		got, ok := StrOfJSON(json.RawMessage(tt.raw))
		if got != tt.want || ok != tt.ok {
			t.Errorf("StrOfJSON(%s) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzFloat checks that every repr parses back to the same value and has
// Python's form: a point or an exponent, exponent form exactly outside
// 1e-4 <= |f| < 1e16.
func FuzzFloat(f *testing.F) {
	for _, v := range []float64{0, 1, 51, 0.1, 1e16, 1e-5, 9.999999999999999e15, 0.0001, 122.76503368701468, 5e-324} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		s := Float(v)
		got, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("Float(%v) = %q: %v", v, s, err)
		}
		if got != v && !(math.IsNaN(got) && math.IsNaN(v)) {
			t.Fatalf("Float(%v) = %q parses as %v", v, s, got)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
			return
		}
		a := math.Abs(v)
		if exp := strings.Contains(s, "e"); exp != (a < 1e-4 || a >= 1e16) {
			t.Fatalf("Float(%v) = %q: exponent form %v", v, s, exp)
		}
		if !strings.ContainsAny(s, ".e") {
			t.Fatalf("Float(%v) = %q: neither point nor exponent", v, s)
		}
	})
}

// FuzzRepr checks that a repr holds no raw control, format or separator
// character other than the space, whatever the input.
func FuzzRepr(f *testing.F) {
	for _, s := range []string{"abc", "it's", "\u009b2J\u202e", "\xff\xfe", "\t\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range Repr(s) {
			if r != ' ' && (r < 0x20 || r == 0x7f || (r >= 0x80 && !unicode.IsPrint(r))) {
				t.Fatalf("Repr(%q) = %q holds raw %U", s, Repr(s), r)
			}
		}
	})
}
