package predict

import (
	"errors"
	"math"
	"net/http"
	"testing"
)

func FuzzParseBody(f *testing.F) {
	for _, s := range []string{
		"[5.1, 3.5, 1.4, 0.2]", "", "[]", "[1e400]", `["a"]`, "{}", "[1,", "null",
		"[-0]", "[1e-400]", "  [ 1 ,2 ] ", `[1, [2]]`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ParseBody(body)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an *InputError", err)
			}
			if ie.Status != http.StatusBadRequest && ie.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 400 or 422", ie.Status)
			}
			if ie.Msg == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if len(got) < 1 || len(got) > MaxInputs {
			t.Fatalf("accepted %d values", len(got))
		}
		for _, v := range got {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("accepted non-finite %v", v)
			}
		}
	})
}
