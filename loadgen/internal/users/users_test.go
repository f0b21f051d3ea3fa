package users

import (
	"reflect"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	t.Parallel()
	all := Builtin()
	tests := []struct {
		name    string
		names   []string
		want    []string
		wantErr string
	}{
		{"all", nil, []string{"ApiUser", "ApiAsyncUser", "ApiSyncUser"}, ""},
		{"one", []string{"ApiAsyncUser"}, []string{"ApiAsyncUser"}, ""},
		{"unknown", []string{"Nope", "ApiSyncUser", "Other"}, nil, "Unknown User(s): Nope, Other"},
		{"only taskless", []string{"ApiUser"}, nil, "No tasks defined on ApiUser"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(all, tt.names)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			var names []string
			for _, c := range got {
				names = append(names, c.Name)
			}
			if err != nil || !reflect.DeepEqual(names, tt.want) {
				t.Fatalf("Select = %v, %v", names, err)
			}
		})
	}
}

func TestDispatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		classes []Class
		want    []int
	}{
		{"single", []Class{{Name: "A", Weight: 5}}, []int{0, 0}},
		{"equal weights sorted by name", []Class{{Name: "B", Weight: 1}, {Name: "A", Weight: 1}}, []int{1, 0, 1, 0}},
		{"3 to 1", []Class{{Name: "A", Weight: 3}, {Name: "B", Weight: 1}}, []int{0, 0, 1, 0, 0, 0, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Dispatch(tt.classes); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Dispatch = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTask(t *testing.T) {
	t.Parallel()
	c := Class{Name: "X", Tasks: []Task{{Path: "/a", Weight: 3}, {Path: "/b", Name: "bee", ExpectStatus: []int{404}}}}
	p := c.Picker()
	if len(p) != 4 || p[0].Path != "/a" || p[3].StatsName() != "bee" || p[0].StatsName() != "/a" {
		t.Fatalf("Picker = %v", p)
	}
	if !p[0].Success(302) || p[0].Success(404) || !p[3].Success(404) || p[3].Success(200) {
		t.Fatal("Success rules")
	}
}

func TestFilterTags(t *testing.T) {
	t.Parallel()
	task := func(path string, tags ...string) Task { return Task{Method: "GET", Path: path, Weight: 1, Tags: tags} }
	classes := []Class{
		{Name: "A", Weight: 1, Tasks: []Task{task("/x", "x"), task("/yz", "y", "z"), task("/none")}},
		{Name: "B", Weight: 1, Tasks: []Task{task("/bx", "x")}},
		{Name: "Empty", Weight: 1},
	}
	paths := func(cs []Class) map[string][]string {
		out := map[string][]string{}
		for _, c := range cs {
			out[c.Name] = []string{}
			for _, t := range c.Tasks {
				out[c.Name] = append(out[c.Name], t.Path)
			}
		}
		return out
	}
	tests := []struct {
		name          string
		tags, exclude []string
		want          map[string][]string
	}{
		{"no filter", nil, nil, map[string][]string{"A": {"/x", "/yz", "/none"}, "B": {"/bx"}, "Empty": {}}},
		{"empty -T filters nothing", []string{}, []string{}, map[string][]string{"A": {"/x", "/yz", "/none"}, "B": {"/bx"}, "Empty": {}}},
		{"include any listed tag", []string{"z", "nope"}, nil, map[string][]string{"A": {"/yz"}, "B": {}, "Empty": {}}},
		{"include two", []string{"x", "y"}, nil, map[string][]string{"A": {"/x", "/yz"}, "B": {"/bx"}, "Empty": {}}},
		{"exclude any listed tag", nil, []string{"y"}, map[string][]string{"A": {"/x", "/none"}, "B": {"/bx"}, "Empty": {}}},
		{"exclude empties a class", nil, []string{"x"}, map[string][]string{"A": {"/yz", "/none"}, "B": {}, "Empty": {}}},
		{"include and exclude", []string{"x", "y"}, []string{"z"}, map[string][]string{"A": {"/x"}, "B": {"/bx"}, "Empty": {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FilterTags(classes, tt.tags, tt.exclude)
			if !reflect.DeepEqual(paths(got), tt.want) {
				t.Fatalf("got %v, want %v", paths(got), tt.want)
			}
		})
	}
	if len(classes[0].Tasks) != 3 || len(classes[1].Tasks) != 1 {
		t.Fatal("FilterTags modified its input")
	}
	// The built-in classes carry no tags: any -T empties them.
	for _, c := range FilterTags(Builtin(), []string{"predict"}, nil) {
		if len(c.Tasks) != 0 {
			t.Fatalf("%s kept %d tasks", c.Name, len(c.Tasks))
		}
	}
}

func TestPick(t *testing.T) {
	t.Parallel()
	all := Builtin()
	got, err := Pick(all, []string{"ApiSyncUser", "ApiUser"})
	if err != nil || len(got) != 2 || got[0].Name != "ApiUser" || got[1].Name != "ApiSyncUser" {
		t.Fatalf("Pick = %v, %v; want ApiUser, ApiSyncUser in listing order", got, err)
	}
	// Unlike Select, a class without tasks alone is fine (--show-task-ratio ApiUser).
	if got, err := Pick(all, []string{"ApiUser"}); err != nil || len(got) != 1 {
		t.Fatalf("Pick(ApiUser) = %v, %v", got, err)
	}
	if _, err := Select(all, []string{"ApiUser"}); err == nil {
		t.Fatal("Select(ApiUser) accepted a selection without tasks")
	}
	if _, err := Pick(all, []string{"Nope"}); err == nil || err.Error() != "Unknown User(s): Nope" {
		t.Fatalf("Pick(Nope) error %v", err)
	}
}

// TestEqualWeights: Locust's assign_equal_weights, checked against
// Locust 2.12.1 with weighted.py (package ratio's testdata): class weights 1,
// task weights 1, tasks in reverse order.
func TestEqualWeights(t *testing.T) {
	t.Parallel()
	in := []Class{
		{Name: "Reader", Weight: 3, Tasks: []Task{{Path: "/browse", Weight: 3}, {Path: "/search", Weight: 2}, {Path: "/", Weight: 1}}},
		{Name: "Idle", Weight: 2},
	}
	got := EqualWeights(in)
	if got[0].Weight != 1 || got[1].Weight != 1 || len(got[1].Tasks) != 0 {
		t.Fatalf("weights %+v", got)
	}
	var paths []string
	for _, task := range got[0].Tasks {
		if task.Weight != 1 {
			t.Errorf("task %s weight %d", task.Path, task.Weight)
		}
		paths = append(paths, task.Path)
	}
	if strings.Join(paths, " ") != "/ /search /browse" {
		t.Errorf("task order %v, want Locust's reversed order", paths)
	}
	if in[0].Weight != 3 || in[0].Tasks[0].Weight != 3 || in[0].Tasks[0].Path != "/browse" {
		t.Error("EqualWeights modified its argument")
	}
}

func TestRatioName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		task Task
		want string
	}{
		{Builtin()[1].Tasks[0], "predict"},
		{Task{Method: "GET", Path: "/hello", Name: "hello page"}, "hello page"},
		{Task{Method: "GET", Path: "/hello?x=1"}, "GET /hello?x=1"},
	}
	for _, tt := range tests {
		if got := tt.task.RatioName(); got != tt.want {
			t.Errorf("RatioName(%+v) = %q, want %q", tt.task, got, tt.want)
		}
	}
}
