// Package pyjson writes JSON numbers and strings byte for byte as Python's
// json module does with its defaults (float repr, ensure_ascii), which is
// what Locust's users send (python-requests' json=) and what Locust's
// outputs hold. Callers write the structure; this package writes the atoms.
package pyjson

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Float formats f as Python's float repr (and json.dumps): shortest
// round-trip digits, ".0" on integral values, exponent form below 1e-4 and
// from 1e16 ("1e-05", "2e+16"), "Infinity"/"-Infinity"/"NaN" for the
// specials.
func Float(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a < 1e-4 || a >= 1e16 {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// WriteString writes s as a JSON string the way Python's json module does
// with ensure_ascii (its default, and Flask's): only printable ASCII stays as
// it is (DEL is escaped too), everything else becomes \uXXXX, with UTF-16
// surrogate pairs above U+FFFF; an invalid UTF-8 byte becomes \ufffd.
func WriteString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r == utf8.RuneError:
				fmt.Fprintf(b, `\u%04x`, 0xfffd)
			case r < 0x20 || r > 0x7e && r <= 0xffff:
				fmt.Fprintf(b, `\u%04x`, r)
			case r > 0xffff:
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
