package jsonnum

import (
	"encoding/json"
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Float
		want string
	}{
		{"number", 1.5, "1.5"},
		{"NaN", NaN(), "null"},
		{"Inf", Float(math.Inf(1)), "null"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.in)
			if err != nil || string(b) != tc.want {
				t.Fatalf("marshal = %s, %v; want %s", b, err, tc.want)
			}
			var back Float
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if tc.in.Valid() != back.Valid() || (tc.in.Valid() && back != tc.in) {
				t.Errorf("round trip %v → %v", tc.in, back)
			}
		})
	}
}
