package users

import (
	"reflect"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
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
	c := Class{Name: "X", Tasks: []Task{{Path: "/a", Weight: 3}, {Path: "/b", Name: "bee", ExpectStatus: []int{404}}}}
	p := c.Picker()
	if len(p) != 4 || p[0].Path != "/a" || p[3].StatsName() != "bee" || p[0].StatsName() != "/a" {
		t.Fatalf("Picker = %v", p)
	}
	if !p[0].Success(302) || p[0].Success(404) || !p[3].Success(404) || p[3].Success(200) {
		t.Fatal("Success rules")
	}
}
