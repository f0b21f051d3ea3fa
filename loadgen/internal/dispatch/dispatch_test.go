package dispatch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"predictlab/loadgen/internal/users"
)

// testdata/dispatch.json is Locust 2.12.1's own UsersDispatcher on each
// scenario, recorded by testdata/gen_golden.py (command in its docstring).
type scenario struct {
	Workers []string `json:"workers"`
	Classes [][2]any `json:"classes"`
	Steps   []struct {
		Event    string       `json:"event"`
		Users    int          `json:"users"`
		Rate     float64      `json:"rate"`
		ID       string       `json:"id"`
		Dispatch Distribution `json:"dispatch"`
	} `json:"steps"`
}

func TestMatchesLocust(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "dispatch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var scenarios map[string]scenario
	if err := json.Unmarshal(b, &scenarios); err != nil {
		t.Fatal(err)
	}
	if len(scenarios) < 3 {
		t.Fatalf("%d scenarios", len(scenarios))
	}
	for name, sc := range scenarios {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var classes []users.Class
			for _, c := range sc.Classes {
				classes = append(classes, users.Class{Name: c[0].(string), Weight: int(c[1].(float64))})
			}
			d := New(sc.Workers, classes)
			for i, st := range sc.Steps {
				switch st.Event {
				case "end":
					if got, ok := d.Next(); ok {
						t.Fatalf("step %d: an extra iteration at the end of a cycle: %v", i, got)
					}
				case "new_dispatch":
					d.NewDispatch(st.Users, st.Rate)
				case "add_worker":
					d.AddWorker(st.ID)
				case "remove_worker":
					d.RemoveWorker(st.ID)
				default:
					got, ok := d.Next()
					if !ok {
						t.Fatalf("step %d: cycle over, Locust has %v", i, st.Dispatch)
					}
					if !reflect.DeepEqual(got, st.Dispatch) {
						t.Fatalf("step %d:\n got %v\nwant %v", i, got, st.Dispatch)
					}
				}
			}
		})
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	d := New([]string{"a_1"}, []users.Class{{Name: "A", Weight: 1}})
	d.NewDispatch(10, 7.5)
	d.Next()
	if w, want := d.Wait(), 933333333*time.Nanosecond; w < want-time.Nanosecond || w > want+time.Nanosecond { // 7/7.5 s
		t.Errorf("Wait = %v", w)
	}
	d.Next()
	if w := d.Wait(); w != 0 || d.UserCount() != 10 {
		t.Errorf("after the last iteration: Wait %v, users %d", w, d.UserCount())
	}
}

func TestSortWorkers(t *testing.T) {
	t.Parallel()
	got := sortWorkers([]string{"h2_b", "h1_b", "h1_a", "h2_a", "h1_c"})
	if want := []string{"h1_a", "h2_a", "h1_b", "h2_b", "h1_c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
