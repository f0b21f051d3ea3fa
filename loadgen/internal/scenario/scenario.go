// Package scenario reads loadgen's YAML scenario files (-f), which define user
// classes without recompiling:
//
//	users:
//	  - name: HelloUser
//	    weight: 1                      # share among classes when several run
//	    wait_time: constant(0)         # constant(s) | between(a, b) | constant_pacing(s) | constant_throughput(n)
//	    tasks:
//	      - {method: GET, path: /hello, weight: 3, tags: [fast]}
//	      - {method: POST, path: /api/v1/ml/sync/predict, name: predict, json: [5.1, 3.5, 1.4, 0.2], headers: {X-Id: "1"}, expect_status: [200]}
//
// Task keys: method (default GET), path (required, starting with /), name
// (default: the path), weight (default 1), json (any YAML value, sent as
// Python's json.dumps would) or body (a raw string), headers, expect_status
// (default: any status below 400 succeeds), tags (a list of names, e.g.
// [fast, read], for -T/--tags and -E/--exclude-tags). A bad file gives an error naming
// the file, line and field.
package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"predictlab/loadgen/internal/users"
	"predictlab/loadgen/internal/wait"
)

// Load reads and parses the scenario file at path.
func Load(path string) ([]users.Class, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return Parse(path, data)
}

// Error is a problem at a place in a scenario file.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error renders the problem as "FILE:LINE: FIELD: MESSAGE".
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
}

var classNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Parse parses a scenario document; file names it in errors.
func Parse(file string, data []byte) ([]users.Class, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse scenario %s: %s", file, strings.ReplaceAll(err.Error(), "\n", " "))
	}
	p := &parser{file: file}
	if len(doc.Content) == 0 {
		return nil, &Error{File: file, Line: 1, Field: "users", Msg: "the file defines no users"}
	}
	root := doc.Content[0]
	fields, err := p.mapping(root, "(top level)", "users")
	if err != nil {
		return nil, err
	}
	list, ok := fields["users"]
	if !ok {
		return nil, p.errf(root, "users", "missing: list the user classes under users:")
	}
	if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return nil, p.errf(list, "users", "must be a non-empty list of user classes")
	}
	if len(list.Content) > MaxClasses {
		return nil, p.errf(list, "users", fmt.Sprintf("more than %d user classes", MaxClasses))
	}
	seen := map[string]int{}
	var classes []users.Class
	sum := 0
	for i, un := range list.Content {
		c, err := p.class(un, fmt.Sprintf("users[%d]", i))
		if err != nil {
			return nil, err
		}
		if line, dup := seen[c.Name]; dup {
			return nil, p.errf(un, fmt.Sprintf("users[%d].name", i), fmt.Sprintf("duplicate class name %q (first on line %d)", c.Name, line))
		}
		seen[c.Name] = un.Line
		classes = append(classes, c)
		if sum += c.Weight; sum > MaxWeight {
			return nil, p.errf(un, fmt.Sprintf("users[%d].weight", i), fmt.Sprintf("the class weights add up to more than %d", MaxWeight))
		}
	}
	return classes, nil
}

type parser struct{ file string }

func (p *parser) errf(n *yaml.Node, field, msg string) error {
	return &Error{File: p.file, Line: n.Line, Field: field, Msg: msg}
}

// mapping returns the keys of a mapping node, rejecting unknown keys.
func (p *parser) mapping(n *yaml.Node, field string, allowed ...string) (map[string]*yaml.Node, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, field, "must be a mapping (key: value)")
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ok := false
		for _, a := range allowed {
			ok = ok || k.Value == a
		}
		if !ok {
			return nil, p.errf(k, field, fmt.Sprintf("unknown key %q (allowed: %s)", k.Value, strings.Join(allowed, ", ")))
		}
		if _, dup := out[k.Value]; dup {
			return nil, p.errf(k, field+"."+k.Value, "given twice")
		}
		out[k.Value] = v
	}
	return out, nil
}

func (p *parser) str(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", p.errf(n, field, "must be a string")
	}
	return n.Value, nil
}

// MaxWeight bounds a weight, and the sum of the class weights or of one
// class's task weights: users are dispatched and tasks picked from lists
// as long as the weights (Locust's way), so an absurd weight would cost
// gigabytes. MaxClasses bounds the classes of one file, for the same reason.
const (
	MaxWeight  = 1_000_000
	MaxClasses = 1000
)

func (p *parser) weight(n *yaml.Node, field string) (int, error) {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || v < 1 || v > MaxWeight {
		return 0, p.errf(n, field, fmt.Sprintf("must be a whole number from 1 to %d, got %q", MaxWeight, n.Value))
	}
	return v, nil
}

func (p *parser) class(n *yaml.Node, field string) (users.Class, error) {
	c := users.Class{Weight: 1}
	f, err := p.mapping(n, field, "name", "weight", "wait_time", "tasks")
	if err != nil {
		return c, err
	}
	nn, ok := f["name"]
	if !ok {
		return c, p.errf(n, field+".name", "missing")
	}
	if c.Name, err = p.str(nn, field+".name"); err != nil {
		return c, err
	}
	if !classNameRe.MatchString(c.Name) {
		return c, p.errf(nn, field+".name", fmt.Sprintf("%q is not a valid class name (letters, digits, _)", c.Name))
	}
	if w, ok := f["weight"]; ok {
		if c.Weight, err = p.weight(w, field+".weight"); err != nil {
			return c, err
		}
	}
	if w, ok := f["wait_time"]; ok {
		s, err := p.str(w, field+".wait_time")
		if err != nil {
			return c, err
		}
		if c.Wait, err = wait.Parse(s); err != nil {
			return c, p.errf(w, field+".wait_time", err.Error())
		}
	}
	if tn, ok := f["tasks"]; ok && tn.ShortTag() != "!!null" {
		if tn.Kind != yaml.SequenceNode {
			return c, p.errf(tn, field+".tasks", "must be a list of tasks")
		}
		sum := 0
		for i, t := range tn.Content {
			task, err := p.task(t, fmt.Sprintf("%s.tasks[%d]", field, i))
			if err != nil {
				return c, err
			}
			c.Tasks = append(c.Tasks, task)
			if sum += task.Weight; sum > MaxWeight {
				return c, p.errf(t, fmt.Sprintf("%s.tasks[%d].weight", field, i), fmt.Sprintf("the task weights of a class add up to more than %d", MaxWeight))
			}
		}
	}
	return c, nil
}

var methodRe = regexp.MustCompile(`^[A-Z]+$`)

func (p *parser) task(n *yaml.Node, field string) (users.Task, error) {
	t := users.Task{Method: "GET", Weight: 1}
	f, err := p.mapping(n, field, "method", "path", "name", "weight", "json", "body", "headers", "expect_status", "tags")
	if err != nil {
		return t, err
	}
	if m, ok := f["method"]; ok {
		if t.Method, err = p.str(m, field+".method"); err != nil {
			return t, err
		}
		t.Method = strings.ToUpper(t.Method)
		if !methodRe.MatchString(t.Method) {
			return t, p.errf(m, field+".method", fmt.Sprintf("%q is not an HTTP method", m.Value))
		}
	}
	pn, ok := f["path"]
	if !ok {
		return t, p.errf(n, field+".path", "missing")
	}
	if t.Path, err = p.str(pn, field+".path"); err != nil {
		return t, err
	}
	if !strings.HasPrefix(t.Path, "/") || strings.ContainsAny(t.Path, " \t\r\n") {
		return t, p.errf(pn, field+".path", fmt.Sprintf("%q must start with / and hold no spaces", t.Path))
	}
	if nn, ok := f["name"]; ok {
		if t.Name, err = p.str(nn, field+".name"); err != nil {
			return t, err
		}
	}
	if w, ok := f["weight"]; ok {
		if t.Weight, err = p.weight(w, field+".weight"); err != nil {
			return t, err
		}
	}
	jn, hasJSON := f["json"]
	bn, hasBody := f["body"]
	switch {
	case hasJSON && hasBody:
		return t, p.errf(bn, field+".body", "give either json or body, not both")
	case hasJSON:
		var b strings.Builder
		if err := pyJSON(&b, jn); err != nil {
			return t, p.errf(jn, field+".json", err.Error())
		}
		t.Body, t.ContentType = []byte(b.String()), "application/json"
	case hasBody:
		s, err := p.str(bn, field+".body")
		if err != nil {
			return t, err
		}
		t.Body = []byte(s)
	}
	if hn, ok := f["headers"]; ok {
		if hn.Kind != yaml.MappingNode {
			return t, p.errf(hn, field+".headers", "must be a mapping of header names to values")
		}
		for i := 0; i+1 < len(hn.Content); i += 2 {
			k, v := hn.Content[i], hn.Content[i+1]
			hf := field + ".headers." + k.Value
			if k.Kind != yaml.ScalarNode || k.Value == "" || strings.ContainsAny(k.Value, " :\r\n") {
				return t, p.errf(k, hf, "bad header name")
			}
			if v.Kind != yaml.ScalarNode || strings.ContainsAny(v.Value, "\r\n") {
				return t, p.errf(v, hf, "header value must be a one-line scalar")
			}
			if strings.EqualFold(k.Value, "Content-Type") {
				t.ContentType = v.Value
				continue
			}
			t.Headers = append(t.Headers, users.Header{Key: k.Value, Value: v.Value})
		}
	}
	if en, ok := f["expect_status"]; ok {
		if en.Kind != yaml.SequenceNode || len(en.Content) == 0 {
			return t, p.errf(en, field+".expect_status", "must be a non-empty list of status codes")
		}
		for _, s := range en.Content {
			v, err := strconv.Atoi(s.Value)
			if s.Kind != yaml.ScalarNode || err != nil || v < 100 || v > 599 {
				return t, p.errf(s, field+".expect_status", fmt.Sprintf("%q is not an HTTP status code (100-599)", s.Value))
			}
			t.ExpectStatus = append(t.ExpectStatus, v)
		}
	}
	if tn, ok := f["tags"]; ok {
		if tn.Kind != yaml.SequenceNode {
			return t, p.errf(tn, field+".tags", "must be a list of tag names, e.g. [fast, read]")
		}
		for i, s := range tn.Content {
			if s.Kind != yaml.ScalarNode || s.ShortTag() == "!!null" || s.Value == "" {
				return t, p.errf(s, fmt.Sprintf("%s.tags[%d]", field, i), "must be a non-empty tag name")
			}
			t.Tags = append(t.Tags, s.Value)
		}
	}
	return t, nil
}
