package runner

import (
	"reflect"
	"testing"
	"time"
)

func TestRamp(t *testing.T) {
	s := time.Second
	tests := []struct {
		name     string
		from, to int
		rate     float64
		want     []Step
	}{
		{"u10 r3: 3,6,9 then 10 (Locust observed)", 0, 10, 3, []Step{{0, 3}, {s, 6}, {2 * s, 9}, {3 * s, 10}}},
		{"u3 r0.5: one user every 2 s", 0, 3, 0.5, []Step{{0, 1}, {2 * s, 2}, {4 * s, 3}}},
		{"u150 r150: one batch", 0, 150, 150, []Step{{0, 150}}},
		{"r2.5: batches of 2 every 0.8 s", 0, 5, 2.5, []Step{{0, 2}, {800 * time.Millisecond, 4}, {1600 * time.Millisecond, 5}}},
		{"ramp down", 10, 4, 3, []Step{{0, 7}, {s, 4}}},
		{"no change", 5, 5, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Ramp(tt.from, tt.to, tt.rate); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Ramp = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClassCountsJSON(t *testing.T) {
	if got := ClassCountsJSON(map[string]int{"B": 2, "A": 1}); got != `{"A": 1, "B": 2}` {
		t.Fatal(got)
	}
}
