package report

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzErrorText: any error text (it comes from the target's answers) maps to
// some text without panicking, plain text is kept, and the report escapes it.
func FuzzErrorText(f *testing.F) {
	for _, s := range []string{"HTTPError('500 Server Error: x for url: /y')", "ConnectionRefusedError(111, 'Connection refused')",
		`CatchResponseError("it's")`, `X('\'')`, "", "(", "A('", "<script>alert(1)</script>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ErrorText(s)
		if !strings.ContainsAny(s, "()") && got != s {
			t.Errorf("text without a call form changed: %q -> %q", s, got)
		}
		if len(got) > len(s)+len("[Errno ] ") {
			t.Errorf("output longer than input: %q -> %q", s, got)
		}
		// The report has <script> elements of its own: compare with the same report
		// carrying a harmless text, so only copies that came from s count.
		report := func(name, text string) string {
			var buf bytes.Buffer
			d := &Data{Failures: []Failure{{Method: "GET", Name: name, Error: text, Occurrences: 1}}}
			if err := Write(&buf, d); err != nil {
				t.Fatal(err)
			}
			return buf.String()
		}
		out := report(s, got)
		if !utf8.ValidString(s) || !strings.Contains(s, "<script>") {
			return
		}
		if strings.Count(out, s) > strings.Count(report("x", "x"), s) {
			t.Errorf("unescaped text in the report: %q", s)
		}
	})
}
