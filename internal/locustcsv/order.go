package locustcsv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FailureKey returns Locust's key of a failure: the hex sha256 of
// f"{method}.{name}.{error!r}", where error is the already repr'd error text
// (the Error column). Locust's CSV and HTML list failures sorted by it.
func FailureKey(method, name, errText string) string {
	sum := sha256.Sum256([]byte(method + "." + name + "." + PyRepr(errText)))
	return hex.EncodeToString(sum[:])
}

// SortFailures sorts rows in Locust's CSV order (by FailureKey).
func SortFailures(rows []FailureRow) {
	keys := make(map[FailureRow]string, len(rows))
	for _, r := range rows {
		keys[r] = FailureKey(r.Method, r.Name, r.Error)
	}
	sort.SliceStable(rows, func(i, j int) bool { return keys[rows[i]] < keys[rows[j]] })
}

// PyRepr returns Python's repr() of the string s: single quotes unless s
// contains ' and no ", backslash escapes for \\, the quote, \t, \n, \r and
// non-printable characters.
func PyRepr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// Invalid UTF-8 cannot come from Python; escape the byte.
			fmt.Fprintf(&b, "\\x%02x", s[i])
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
			fmt.Fprintf(&b, "\\x%02x", r)
		case r < 0x80 || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, "\\x%02x", r)
		case r <= 0xffff:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			fmt.Fprintf(&b, "\\U%08x", r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}
