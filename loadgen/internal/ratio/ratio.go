// Package ratio computes the task ratios Locust 2.12 shows (its
// user/inspectuser.py): the table of --show-task-ratio, the JSON of
// --show-task-ratio-json, the web UI's GET /tasks and the HTML report's
// "Final ratio".
//
// A class's ratio is its share of the users counted (Compute's counts: the
// running users, or Distribution's expected split). A task's ratio is its
// share of its class's draws ("per_class") or of all draws, weighted by the
// class's ratio ("total"). Everything here is a pure function of its
// arguments; the values are plain data, safe to share.
package ratio

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"predictlab/internal/pyfmt"
)

// Class is a user class as the ratios see it.
type Class struct {
	Name string
	// Weight is the class's share when Distribution splits users (>= 1).
	Weight int
	// Tasks in declaration order.
	Tasks []Task
}

// Task is one task of a class.
type Task struct {
	// Name is how the task is shown (Locust shows the function's name).
	// Tasks of a class with the same name are one entry, their weights
	// added, as Locust counts every copy of one function.
	Name string
	// Weight is the number of copies in the class's draw list (Locust's
	// @task(weight)); below 1 counts as 1.
	Weight int
}

// Entry is one class or task and its ratio, from 0 to 1.
type Entry struct {
	Name  string
	Ratio float64
	// Tasks are a class's tasks in declaration order (empty for a class
	// without tasks); always nil for a task.
	Tasks []Entry
}

// Ratios is Locust's {"per_class": ..., "total": ...}: the classes in the
// order given to Compute, each with its tasks.
type Ratios struct {
	PerClass []Entry
	Total    []Entry
}

// Distribution is how many users of each class Locust expects for users
// users (its _calc_distribution, used by --show-task-ratio with -u): each
// class gets weight/Σweight of them, rounded half to even, so the counts need
// not add up to users (3 equal classes and -u 1 give 0 each). users 0 means
// Σweight users, one per unit of weight, as when -u is not given.
func Distribution(classes []Class, users int) map[string]int {
	total := 0
	for _, c := range classes {
		total += c.Weight
	}
	if users == 0 {
		users = total
	}
	out := make(map[string]int, len(classes))
	for _, c := range classes {
		if total == 0 {
			out[c.Name] = 0
			continue
		}
		out[c.Name] = int(math.RoundToEven(float64(c.Weight) / float64(total) * float64(users)))
	}
	return out
}

// Compute returns the ratios of classes given the users of each class
// (counts; a class missing from it has none). With no users at all every
// class's ratio is 0 (Locust divides by the count or 1), while each class's
// per-class task ratios still show its own draw shares.
func Compute(classes []Class, counts map[string]int) Ratios {
	sum := 0
	for _, n := range counts {
		sum += n
	}
	if sum == 0 {
		sum = 1
	}
	r := Ratios{PerClass: make([]Entry, 0, len(classes)), Total: make([]Entry, 0, len(classes))}
	for _, c := range classes {
		share := float64(counts[c.Name]) / float64(sum)
		r.PerClass = append(r.PerClass, Entry{Name: c.Name, Ratio: share, Tasks: taskRatios(c.Tasks, 1.0)})
		r.Total = append(r.Total, Entry{Name: c.Name, Ratio: share, Tasks: taskRatios(c.Tasks, share)})
	}
	return r
}

// taskRatios is Locust's _get_task_ratio: copies × parent / all copies,
// computed in that order so the floats are Locust's.
func taskRatios(tasks []Task, parent float64) []Entry {
	out := []Entry{}
	index := map[string]int{}
	copies := []int{}
	all := 0
	for _, t := range tasks {
		w := max(t.Weight, 1)
		all += w
		if i, ok := index[t.Name]; ok {
			copies[i] += w
			continue
		}
		index[t.Name] = len(out)
		out = append(out, Entry{Name: t.Name})
		copies = append(copies, w)
	}
	for i := range out {
		out[i].Ratio = float64(copies[i]) * parent / float64(all)
	}
	return out
}

// WriteText writes the two tables of locust --show-task-ratio: "Task ratio
// per User class", then "Total task ratio", each line a percentage with one
// decimal and a name, tasks indented under their class (trailing spaces
// included, as Locust pads every line to its columns).
func (r Ratios) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString("\n Task ratio per User class\n")
	b.WriteString(strings.Repeat("-", 80) + "\n")
	textLines(&b, r.PerClass, 0)
	b.WriteString("\n Total task ratio\n")
	b.WriteString(strings.Repeat("-", 80) + "\n")
	textLines(&b, r.Total, 0)
	_, err := io.WriteString(w, b.String())
	return err
}

// textLines is Locust's _print_task_ratio: " %-10s %-50s" with the
// percentage as "%-6.1f", both indented two spaces per level.
func textLines(b *strings.Builder, entries []Entry, level int) {
	pad := strings.Repeat("  ", level)
	for _, e := range entries {
		fmt.Fprintf(b, " %-10s %-50s\n", pad+fmt.Sprintf("%-6.1f", e.Ratio*100), pad+e.Name)
		textLines(b, e.Tasks, level+1)
	}
}

// JSONStyle selects one of the ways Locust serialises the ratios.
type JSONStyle struct {
	// Indent per level; "" writes one line with ", " and ": " separators.
	Indent string
	// SortKeys sorts every object's keys (Flask's jsonify); otherwise the
	// classes and tasks keep their order.
	SortKeys bool
}

var (
	// ShowTaskRatioJSON is --show-task-ratio-json: json.dumps(indent=4).
	ShowTaskRatioJSON = JSONStyle{Indent: "    "}
	// WebJSON is GET /tasks: Flask's jsonify, 2-space indent, sorted keys.
	WebJSON = JSONStyle{Indent: "  ", SortKeys: true}
	// ReportJSON is the report's data-tasks attribute: json.dumps().
	ReportJSON = JSONStyle{}
)

// JSON returns r as Python's json module writes it in style s: floats in
// Python's repr (1.0, 0.3333333333333333), non-ASCII escaped as \uXXXX,
// objects {} when empty. There is no trailing newline.
func (r Ratios) JSON(s JSONStyle) []byte {
	var b strings.Builder
	j := jsonWriter{b: &b, style: s}
	j.open()
	j.key(0, "per_class")
	j.classes(1, r.PerClass)
	j.comma()
	j.key(0, "total")
	j.classes(1, r.Total)
	j.close(0, true)
	return []byte(b.String())
}

type jsonWriter struct {
	b     *strings.Builder
	style JSONStyle
}

func (j jsonWriter) open() { j.b.WriteByte('{') }

// key starts member key of an object at depth (0 = the outermost object's members).
func (j jsonWriter) key(depth int, k string) {
	if j.style.Indent != "" {
		j.b.WriteByte('\n')
		j.b.WriteString(strings.Repeat(j.style.Indent, depth+1))
	}
	pyfmt.WriteJSONString(j.b, k)
	j.b.WriteString(": ")
}

func (j jsonWriter) comma() {
	if j.style.Indent != "" {
		j.b.WriteByte(',')
	} else {
		j.b.WriteString(", ")
	}
}

// close ends an object whose members were at depth; nonEmpty tells whether
// it had any (Python writes {} for an empty one).
func (j jsonWriter) close(depth int, nonEmpty bool) {
	if nonEmpty && j.style.Indent != "" {
		j.b.WriteByte('\n')
		j.b.WriteString(strings.Repeat(j.style.Indent, depth))
	}
	j.b.WriteByte('}')
}

// classes writes {name: {"ratio": r, "tasks": {...}}} with members at depth.
func (j jsonWriter) classes(depth int, entries []Entry) {
	j.entries(depth, entries, true)
}

func (j jsonWriter) entries(depth int, entries []Entry, withTasks bool) {
	j.open()
	if j.style.SortKeys {
		entries = append([]Entry(nil), entries...)
		sort.SliceStable(entries, func(a, b int) bool { return entries[a].Name < entries[b].Name })
	}
	for i, e := range entries {
		if i > 0 {
			j.comma()
		}
		j.key(depth, e.Name)
		j.open()
		j.key(depth+1, "ratio")
		j.b.WriteString(pyfmt.JSONFloat(e.Ratio))
		if withTasks {
			j.comma()
			j.key(depth+1, "tasks")
			j.entries(depth+2, e.Tasks, false)
		}
		j.close(depth+1, true)
	}
	j.close(depth, len(entries) > 0)
}
