// Package users defines loadgen's user classes: a name, a weight among
// classes, a wait_time and weighted tasks, each task one HTTP request. It
// provides the classes built in from the seed's benchmark.py and the class
// selection and task picking rules of Locust 2.12. Classes are plain values,
// safe to share between goroutines once built.
package users

import (
	"fmt"
	"sort"
	"strings"

	"predictlab/loadgen/internal/wait"
)

// Header is one request header, kept in order.
type Header struct {
	Key, Value string
}

// Task is one weighted request a user can make.
type Task struct {
	// Method is the HTTP method, e.g. "GET".
	Method string `json:"method"`
	// Path is the request target, e.g. "/api/v1/ml/sync/predict" (may include a query).
	Path string `json:"path"`
	// Name is the stats name; "" means Path (Locust's default).
	Name string `json:"name,omitempty"`
	// Weight is how many times the task counts in the random draw (>= 1).
	Weight int `json:"weight"`
	// Body is sent as is; ContentType, when set, is sent as Content-Type.
	Body        []byte `json:"-"`
	ContentType string `json:"content_type,omitempty"`
	// Headers are extra request headers.
	Headers []Header `json:"headers,omitempty"`
	// ExpectStatus lists the statuses that count as success; empty means
	// any status below 400 (Locust's rule).
	ExpectStatus []int `json:"expect_status,omitempty"`
	// Tags are the task's tags (Locust's @tag), for FilterTags.
	Tags []string `json:"tags,omitempty"`
	// Func is the name of the Locust task function the task stands for
	// (the built-in classes' "predict", as in benchmark.py); "" for
	// scenario tasks. See RatioName.
	Func string `json:"func,omitempty"`
}

// RatioName is the task's name in the task ratios (--show-task-ratio,
// /tasks, the report's "Final ratio"), where Locust shows the task
// function's name: Func when set (the built-in classes' "predict"), else the
// scenario task's name, else its method and path ("GET /hello").
func (t *Task) RatioName() string {
	switch {
	case t.Func != "":
		return t.Func
	case t.Name != "":
		return t.Name
	}
	return t.Method + " " + t.Path
}

// hasAny reports whether the task carries any of tags.
func (t *Task) hasAny(tags []string) bool {
	for _, have := range t.Tags {
		for _, want := range tags {
			if have == want {
				return true
			}
		}
	}
	return false
}

// StatsName is the name the task's requests are recorded under.
func (t *Task) StatsName() string {
	if t.Name != "" {
		return t.Name
	}
	return t.Path
}

// Success reports whether a response with this status counts as a success.
func (t *Task) Success(status int) bool {
	if len(t.ExpectStatus) == 0 {
		return status < 400
	}
	for _, s := range t.ExpectStatus {
		if s == status {
			return true
		}
	}
	return false
}

// Class is a user class.
type Class struct {
	Name   string    `json:"name"`
	Weight int       `json:"weight"`
	Wait   wait.Spec `json:"wait_time"`
	Tasks  []Task    `json:"tasks"`
}

// NoTasksMessage is the exception text a user of a class without tasks raises
// on every iteration (Locust's wording).
func (c *Class) NoTasksMessage() string {
	return fmt.Sprintf("No tasks defined on %s. Use the @task decorator or set the 'tasks' attribute of the User (or mark it as abstract = True if you only intend to subclass it)", c.Name)
}

// NoTasksTraceback is the traceback recorded with NoTasksMessage, for the
// Traceback cell of exceptions.csv. It has the two frames of Locust's
// traceback, in the form Python's traceback.format_tb writes them; the file is
// "<loadgen>" (as Python writes "<string>" for code without a file), since no
// Python runs. Locust groups exceptions by traceback, so every class without
// tasks shares one row, as in Locust.
const NoTasksTraceback = "  File \"<loadgen>\", in run\n" +
	"    self.schedule_task(self.get_next_task())\n" +
	"  File \"<loadgen>\", in get_next_task\n" +
	"    raise Exception(\n"

// Picker returns the expanded task list of Locust (a task of weight w appears
// w times); choosing uniformly from it picks task i with probability w_i/Σw.
func (c *Class) Picker() []*Task {
	var out []*Task
	for i := range c.Tasks {
		for range max(c.Tasks[i].Weight, 1) {
			out = append(out, &c.Tasks[i])
		}
	}
	return out
}

// PredictBody is the seed's input_data as python-requests serialises it.
const PredictBody = "[5.1, 3.5, 1.4, 0.2]"

// Builtin returns the classes of the seed's benchmark.py in its listing order:
// ApiUser (no tasks), ApiAsyncUser and ApiSyncUser, all constant_pacing(1).
func Builtin() []Class {
	pacing := wait.Spec{Kind: wait.ConstantPacing, A: 1}
	predict := func(route string) []Task {
		return []Task{{
			Method: "POST", Path: "/api/v1/ml/" + route + "/predict", Weight: 1,
			Body: []byte(PredictBody), ContentType: "application/json", Func: "predict",
		}}
	}
	return []Class{
		{Name: "ApiUser", Weight: 1, Wait: pacing},
		{Name: "ApiAsyncUser", Weight: 1, Wait: pacing, Tasks: predict("async")},
		{Name: "ApiSyncUser", Weight: 1, Wait: pacing, Tasks: predict("sync")},
	}
}

// Select returns the classes named (all of them when names is empty), in
// the order given by all. Unknown names give Locust's "Unknown User(s): X"
// error. Selecting only classes without tasks is an error too.
func Select(all []Class, names []string) ([]Class, error) {
	out, err := Pick(all, names)
	if err != nil || len(names) == 0 {
		return out, err
	}
	for _, c := range out {
		if len(c.Tasks) > 0 {
			return out, nil
		}
	}
	return nil, fmt.Errorf("No tasks defined on %s. Use the @task decorator or set the 'tasks' attribute of the User (or mark it as abstract = True if you only intend to subclass it)", out[0].Name)
}

// Pick is Select without the check for tasks: the classes named (all of
// them when names is empty) in the order given by all, or Locust's
// "Unknown User(s): X" error. (Locust itself orders named classes as a
// Python set does, which varies from run to run.)
func Pick(all []Class, names []string) ([]Class, error) {
	if len(names) == 0 {
		return all, nil
	}
	byName := make(map[string]int, len(all))
	for i, c := range all {
		byName[c.Name] = i
	}
	var unknown []string
	want := map[string]bool{}
	for _, n := range names {
		if _, ok := byName[n]; !ok {
			unknown = append(unknown, n)
		}
		want[n] = true
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("Unknown User(s): %s", strings.Join(unknown, ", "))
	}
	var out []Class
	for _, c := range all {
		if want[c.Name] {
			out = append(out, c)
		}
	}
	return out, nil
}

// EqualWeights returns copies of classes as Locust's --equal-weights makes
// them (Environment.assign_equal_weights): every class of weight 1 and every
// task of weight 1, so each task is as likely as any other of its class.
// Like Locust, which collects the tasks by popping them off the end of the
// list, it lists them in reverse order; this shows in the report's "Final
// ratio" and does not change what runs. classes is not modified.
func EqualWeights(classes []Class) []Class {
	out := make([]Class, len(classes))
	for i, c := range classes {
		out[i] = c
		out[i].Weight = 1
		out[i].Tasks = nil
		for j := len(c.Tasks) - 1; j >= 0; j-- {
			t := c.Tasks[j]
			t.Weight = 1
			out[i].Tasks = append(out[i].Tasks, t)
		}
	}
	return out
}

// FilterTags returns copies of classes holding only the tasks Locust's
// -T/--tags and -E/--exclude-tags keep: with tags, the tasks carrying at
// least one of them; with exclude, the tasks carrying none of them. An empty
// list filters nothing (Locust ignores "-T" given no tags). A class can be
// left with no tasks; its users then raise NoTasksMessage, as in Locust.
// classes is not modified.
func FilterTags(classes []Class, tags, exclude []string) []Class {
	out := make([]Class, len(classes))
	for i, c := range classes {
		out[i] = c
		if len(tags) == 0 && len(exclude) == 0 {
			continue
		}
		out[i].Tasks = nil
		for _, t := range c.Tasks {
			if (len(tags) == 0 || t.hasAny(tags)) && !t.hasAny(exclude) {
				out[i].Tasks = append(out[i].Tasks, t)
			}
		}
	}
	return out
}

// Dispatch returns the order in which users of the classes are started, one
// cycle long: Locust's UsersDispatcher sorts classes by name and runs a smooth
// weighted round robin over weights normalised so the smallest is 2. User i
// of a ramp gets class Dispatch(classes)[i % len]. The result holds indexes
// into classes.
func Dispatch(classes []Class) []int {
	if len(classes) == 0 {
		return nil
	}
	idx := make([]int, len(classes))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return classes[idx[a]].Name < classes[idx[b]].Name })
	minW := -1
	for _, c := range classes {
		if w := max(c.Weight, 1); minW < 0 || w < minW {
			minW = w
		}
	}
	weights := make([]int, len(idx))
	total := 0
	for k, i := range idx {
		weights[k] = roundHalfEven(2 * float64(max(classes[i].Weight, 1)) / float64(minW))
		total += weights[k]
	}
	current := make([]int, len(idx))
	out := make([]int, 0, total)
	for range total {
		best := -1
		for k := range idx {
			current[k] += weights[k]
			if best < 0 || current[best] < current[k] {
				best = k
			}
		}
		current[best] -= total
		out = append(out, idx[best])
	}
	return out
}

func roundHalfEven(x float64) int {
	i := int(x)
	f := x - float64(i)
	switch {
	case f > 0.5, f == 0.5 && i%2 == 1:
		return i + 1
	}
	return i
}
