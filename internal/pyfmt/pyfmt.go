// Package pyfmt writes values byte for byte as Python 3 does: repr() of a
// float and of a str, json.dumps() of a float and of a str (ensure_ascii, its
// default and Flask's), and str() of a decoded JSON scalar (configargparse's
// list values). Locust's files, failure texts and JSON are made by those
// functions, so every predictlab writer that reproduces them uses this one
// implementation of each.
//
// All functions are pure and safe for concurrent use.
package pyfmt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Float formats f as Python's repr(float) does: the shortest string that
// round-trips, "51.0" for integral values, exponent form outside
// 1e-4 <= |f| < 1e16 ("1e+16", "1.5e-05"), "nan", "inf", "-inf".
func Float(f float64) string {
	return string(AppendFloat(nil, f))
}

// AppendFloat appends Float(f) to dst.
func AppendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	// Python's repr switches to exponent form at the same bounds as this
	// test; strconv's shortest digits are the same as Python's, and its
	// exponent has at least two digits, as Python's does.
	if a := math.Abs(f); a < 1e-4 || a >= 1e16 {
		return strconv.AppendFloat(dst, f, 'e', -1, 64)
	}
	n := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	if bytes.IndexByte(dst[n:], '.') < 0 {
		dst = append(dst, ".0"...)
	}
	return dst
}

// JSONFloat formats f as Python's json.dumps does: Float(f), except for the
// specials, which are "NaN", "Infinity" and "-Infinity" there.
func JSONFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return Float(f)
}

// Repr returns Python's repr() of the str s: single quotes unless s
// contains ' and no ", backslash escapes for \\, the quote, \t, \n, \r, and
// every character Python's str.isprintable() rejects (C0 and C1 controls,
// DEL, format characters such as the bidi overrides, separators other than
// the space) as \xNN, \uNNNN or \UNNNNNNNN. So a Repr never carries a raw
// control or bidi character to a terminal. An invalid UTF-8 byte, which
// cannot come from Python, is escaped as \xNN.
func Repr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
			i++
			continue
		}
		i += size
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(quote):
			b.WriteByte('\\')
			b.WriteByte(quote)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x80 || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// WriteJSONString writes s to b as a JSON string the way Python's json
// module does with ensure_ascii (its default, and Flask's): only printable
// ASCII stays as it is (DEL is escaped too), everything else becomes
// \uXXXX, with UTF-16 surrogate pairs above U+FFFF; an invalid UTF-8 byte
// becomes \ufffd.
func WriteJSONString(b *strings.Builder, s string) {
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

// StrOfJSON is Python's str() of the value json.loads decodes from raw, for
// scalars: a string as it is, True/False/None, integers in decimal, other
// numbers as written. Arrays, objects and invalid JSON give false.
func StrOfJSON(raw json.RawMessage) (string, bool) {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		if x {
			return "True", true
		}
		return "False", true
	case nil:
		return "None", true
	case json.Number:
		if i, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return strconv.FormatInt(i, 10), true
		}
		return x.String(), true
	}
	return "", false
}
