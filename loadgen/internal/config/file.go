package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"predictlab/internal/pyfmt"
)

// Setting is one key = value line of a config file.
type Setting struct {
	// Key is the key as written: a long option name with or without its
	// leading dashes ("spawn-rate", "--spawn-rate").
	Key string
	// Value is the value with its quotes removed; "true" for a bare key.
	Value string
	// List holds the elements of a [a, b] value; IsList tells it was one.
	List   []string
	IsList bool
	// Line is the 1-based line the setting was (last) given on.
	Line int
}

// FileError is a problem at a line of a config file.
type FileError struct {
	File string
	Line int
	Msg  string
}

// Error renders the problem as "FILE:LINE: MESSAGE".
func (e *FileError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// pyWS is the set of characters Python's \s and str.strip treat as white
// space in text: configargparse's parser is written in those terms.
const pyWS = `\t\n\v\f\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`

// lineRe is configargparse 1.5.3's DefaultConfigFileParser line pattern,
// with its back-reference to the opening quote spelt out as alternatives
// (Go's leftmost-first matching chooses what Python's backtracking chooses):
//
//	^(?P<key>[^:=;#\s]+)\s*(?:(?P<equal>[:=\s])\s*(['"]?)(?P<value>.+?)?\3)?\s*(?:\s[;#]\s*(?P<comment>.*?)\s*)?$
var lineRe = regexp.MustCompile(`^([^:=;#` + pyWS + `]+)[` + pyWS + `]*` +
	`(?:([:=` + pyWS + `])[` + pyWS + `]*(?:"(.+?)?"|'(.+?)?'|(.+?)?))?` +
	`[` + pyWS + `]*(?:[` + pyWS + `][;#][` + pyWS + `]*(.*?)[` + pyWS + `]*)?$`)

// isPyWS reports whether r is white space to Python's str.strip.
func isPyWS(r rune) bool {
	switch {
	case r >= '\t' && r <= '\r', r >= 0x1c && r <= ' ', r == 0x85, r == 0xa0, r == 0x1680,
		r >= 0x2000 && r <= 0x200a, r == 0x2028, r == 0x2029, r == 0x202f, r == 0x205f, r == 0x3000:
		return true
	}
	return false
}

// splitLines splits text as Python's universal-newline reading does: "\n",
// "\r\n" and a lone "\r" each end a line.
func splitLines(data []byte) []string {
	s := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// ParseFile parses a config file as Locust 2.12 reads ~/.locust.conf,
// ./locust.conf and --config files (configargparse's default syntax):
//
//	# comment            ; comment           [section] (ignored)    --- (ignored)
//	users = 150          users: 150          users 150              --users 150
//	headless             (a bare key is "true")
//	tags = [a, b]        (a list)            host = "http://x"      (quotes removed)
//	users = 5 # comment  (a comment needs white space before # or ;)
//
// Settings come in the order configargparse applies them: a key given twice
// keeps its first position and its last value. file names the file in errors;
// the only error is a line that fits none of these forms, or text that is not
// UTF-8. ParseFile does not check keys or values (see Apply).
func ParseFile(file string, data []byte) ([]Setting, error) {
	if !utf8.Valid(data) {
		return nil, &FileError{File: file, Line: 1 + bytes.Count(data[:firstInvalid(data)], []byte("\n")), Msg: "not UTF-8 text"}
	}
	var out []Setting
	index := map[string]int{}
	for i, raw := range splitLines(data) {
		line := strings.TrimFunc(raw, isPyWS)
		if line == "" || strings.ContainsRune("#;[", rune(line[0])) || strings.HasPrefix(line, "---") {
			continue
		}
		m := lineRe.FindStringSubmatchIndex(line)
		if m == nil {
			return nil, &FileError{File: file, Line: i + 1, Msg: fmt.Sprintf("unexpected line %q: expected key = value", line)}
		}
		group := func(g int) (string, bool) {
			if m[2*g] < 0 {
				return "", false
			}
			return line[m[2*g]:m[2*g+1]], true
		}
		s := Setting{Line: i + 1}
		s.Key, _ = group(1)
		equal, hasEqual := group(2)
		value, hasValue := group(3)
		if !hasValue {
			value, hasValue = group(4)
		}
		if !hasValue {
			value, hasValue = group(5)
		}
		switch {
		case hasValue:
			s.Value = value
		case hasEqual && equal != " ":
			s.Value = ""
		default:
			s.Value = "true"
		}
		if strings.HasPrefix(s.Value, "[") && strings.HasSuffix(s.Value, "]") {
			s.IsList, s.List = true, parseList(s.Value)
		}
		if j, ok := index[s.Key]; ok {
			out[j] = s
			continue
		}
		index[s.Key] = len(out)
		out = append(out, s)
	}
	return out, nil
}

func firstInvalid(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// parseList reads a [..] value as configargparse does: as a JSON array when
// it is one (elements written as Python's str() writes them), else split at
// commas with the elements' white space trimmed ("[a, b]" is a and b).
func parseList(v string) []string {
	var elems []json.RawMessage
	if err := json.Unmarshal([]byte(v), &elems); err == nil {
		out := make([]string, 0, len(elems))
		ok := true
		for _, e := range elems {
			s, good := pyfmt.StrOfJSON(e)
			ok = ok && good
			out = append(out, s)
		}
		if ok {
			return out
		}
	}
	parts := strings.Split(v[1:len(v)-1], ",")
	for i := range parts {
		parts[i] = strings.TrimFunc(parts[i], isPyWS)
	}
	return parts
}
