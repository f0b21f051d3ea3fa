package scenario

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"predictlab/loadgen/internal/users"
	"predictlab/loadgen/internal/wait"
)

const good = `users:
  - name: HelloUser
    weight: 1                      # share among classes when several run
    wait_time: constant(0)
    tasks:
      - {method: GET, path: /hello, weight: 3, tags: [fast, read]}
      - {method: POST, path: /api/v1/ml/sync/predict, name: predict, json: [5.1, 3.5, 1.4, 0.2], headers: {X-Id: "1"}, expect_status: [200]}
  - name: Other
    weight: 2
    wait_time: between(0.5, 1.5)
    tasks:
      - path: /raw
        body: hello
        headers: {Content-Type: text/plain}
      - {method: put, path: /obj, json: {b: 1, a: [true, null, "é"], c: 1.0, d: 1e20}}
  - name: Idle
`

func TestParseGood(t *testing.T) {
	t.Parallel()
	got, err := Parse("s.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := []users.Class{
		{Name: "HelloUser", Weight: 1, Wait: wait.Spec{Kind: wait.Constant}, Tasks: []users.Task{
			{Method: "GET", Path: "/hello", Weight: 3, Tags: []string{"fast", "read"}},
			{Method: "POST", Path: "/api/v1/ml/sync/predict", Name: "predict", Weight: 1,
				Body: []byte("[5.1, 3.5, 1.4, 0.2]"), ContentType: "application/json",
				Headers: []users.Header{{Key: "X-Id", Value: "1"}}, ExpectStatus: []int{200}},
		}},
		{Name: "Other", Weight: 2, Wait: wait.Spec{Kind: wait.Between, A: 0.5, B: 1.5}, Tasks: []users.Task{
			{Method: "GET", Path: "/raw", Weight: 1, Body: []byte("hello"), ContentType: "text/plain"},
			{Method: "PUT", Path: "/obj", Weight: 1, ContentType: "application/json",
				Body: []byte(`{"b": 1, "a": [true, null, "\u00e9"], "c": 1.0, "d": 1e+20}`)},
		}},
		{Name: "Idle", Weight: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if got[0].Tasks[1].Body != nil && len(got[0].Tasks[1].Body) != 20 {
		t.Fatal("seed body must be 20 bytes as python-requests sends it")
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, want string
	}{
		{"empty", ``, "s.yaml:1: users: the file defines no users"},
		{"no users key", "foo: 1\n", `s.yaml:1: (top level): unknown key "foo"`},
		{"users not list", "users: 3\n", "s.yaml:1: users: must be a non-empty list"},
		{"missing name", "users:\n  - weight: 1\n", "s.yaml:2: users[0].name: missing"},
		{"bad name", "users:\n  - name: 'a b'\n", `s.yaml:2: users[0].name: "a b" is not a valid class name`},
		{"bad weight", "users:\n  - name: A\n    weight: x\n", `s.yaml:3: users[0].weight: must be a whole number from 1 to 1000000, got "x"`},
		// Absurd weights (R13): one line, not gigabytes or a makeslice panic.
		{"huge task weight", "users:\n  - name: A\n    tasks:\n      - {path: /x, weight: 3000000000}\n", `s.yaml:4: users[0].tasks[0].weight: must be a whole number from 1 to 1000000, got "3000000000"`},
		{"max int class weight", "users:\n  - {name: A, weight: 1, tasks: [{path: /}]}\n  - {name: B, weight: 9223372036854775807, tasks: [{path: /}]}\n", `s.yaml:3: users[1].weight: must be a whole number from 1 to 1000000`},
		{"class weights add up", "users:\n  - {name: A, weight: 600000}\n  - {name: B, weight: 600000}\n", `s.yaml:3: users[1].weight: the class weights add up to more than 1000000`},
		{"task weights add up", "users:\n  - name: A\n    tasks:\n      - {path: /a, weight: 999999}\n      - {path: /b, weight: 2}\n", `s.yaml:5: users[0].tasks[1].weight: the task weights of a class add up to more than 1000000`},
		{"alias bomb", aliasBomb(), "users[0].tasks[0].json: the JSON body is larger than 1048576 bytes (YAML aliases expand it)"},
		{"bad wait", "users:\n  - name: A\n    wait_time: sleep(1)\n", `s.yaml:3: users[0].wait_time: parse wait_time "sleep(1)": unknown function`},
		{"unknown task key", "users:\n  - name: A\n    tasks:\n      - {path: /x, verb: GET}\n", `s.yaml:4: users[0].tasks[0]: unknown key "verb"`},
		{"missing path", "users:\n  - name: A\n    tasks:\n      - {method: GET}\n", "s.yaml:4: users[0].tasks[0].path: missing"},
		{"bad path", "users:\n  - name: A\n    tasks:\n      - {path: x}\n", `s.yaml:4: users[0].tasks[0].path: "x" must start with /`},
		{"bad method", "users:\n  - name: A\n    tasks:\n      - {path: /x, method: 'G T'}\n", `users[0].tasks[0].method: "G T" is not an HTTP method`},
		{"json and body", "users:\n  - name: A\n    tasks:\n      - {path: /x, json: 1, body: y}\n", "users[0].tasks[0].body: give either json or body"},
		{"bad status", "users:\n  - name: A\n    tasks:\n      - {path: /x, expect_status: [42]}\n", `s.yaml:4: users[0].tasks[0].expect_status: "42" is not an HTTP status code`},
		{"duplicate class", "users:\n  - name: A\n  - name: A\n", `s.yaml:3: users[1].name: duplicate class name "A" (first on line 2)`},
		{"yaml syntax", "users: [\n", "parse scenario s.yaml: yaml: line"},
		{"tags not a list", "users:\n  - name: A\n    tasks:\n      - {path: /x, tags: fast}\n", "s.yaml:4: users[0].tasks[0].tags: must be a list of tag names"},
		{"empty tag", "users:\n  - name: A\n    tasks:\n      - path: /x\n        tags: [a, '']\n", "s.yaml:5: users[0].tasks[0].tags[1]: must be a non-empty tag name"},
		{"null tag", "users:\n  - name: A\n    tasks:\n      - path: /x\n        tags:\n          - ~\n", "s.yaml:6: users[0].tasks[0].tags[0]: must be a non-empty tag name"},
		{"nested tag", "users:\n  - name: A\n    tasks:\n      - {path: /x, tags: [[a]]}\n", "s.yaml:4: users[0].tasks[0].tags[0]: must be a non-empty tag name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(p, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if cs, err := Load(p); err != nil || len(cs) != 3 {
		t.Fatalf("Load = %v, %v", cs, err)
	}
	if _, err := Load(p + ".missing"); err == nil {
		t.Fatal("missing file accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("users:\n  - name: A\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		classes, err := Parse("f.yaml", data)
		if err != nil {
			return
		}
		for _, c := range classes {
			if c.Name == "" || c.Weight < 1 {
				t.Fatalf("bad class %+v", c)
			}
			for _, tk := range c.Tasks {
				if !strings.HasPrefix(tk.Path, "/") || tk.Weight < 1 {
					t.Fatalf("bad task %+v", tk)
				}
				for _, tag := range tk.Tags {
					if tag == "" {
						t.Fatalf("empty tag in %+v", tk)
					}
				}
			}
		}
	})
}

// aliasBomb is the review's ~500-byte scenario whose json: stands for 10^9
// numbers through nested YAML aliases.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("users:\n  - name: U\n    tasks:\n      - path: /\n        json:\n")
	b.WriteString("          a: &a [0,0,0,0,0,0,0,0,0,0]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		fmt.Fprintf(&b, "          %s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", n, n, prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = n
	}
	return b.String()
}
