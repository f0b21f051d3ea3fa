package predict

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"predictlab/internal/targetsapi"
)

// seqRuntime runs everything inline, one wait after another.
type seqRuntime struct{}

func (seqRuntime) CPU(fn func()) { fn() }
func (seqRuntime) Wait(ctx context.Context, calls ...func(context.Context) error) error {
	for _, c := range calls {
		if err := c(ctx); err != nil {
			return err
		}
	}
	return nil
}

type storeFunc func(ctx context.Context, key string) ([]byte, error)

func (f storeFunc) Features(ctx context.Context, key string) ([]byte, error) { return f(ctx, key) }

type modelFunc func(ctx context.Context, body []byte) ([]byte, error)

func (f modelFunc) Predict(ctx context.Context, body []byte) ([]byte, error) { return f(ctx, body) }

func TestScoringHandle(t *testing.T) {
	hit := storeFunc(func(context.Context, string) ([]byte, error) { return []byte("{}"), nil })
	miss := storeFunc(func(context.Context, string) ([]byte, error) { return nil, nil })
	answers := func(vals ...string) modelFunc {
		i := 0
		return func(context.Context, []byte) ([]byte, error) {
			v := vals[i%len(vals)]
			i++
			return []byte(v), nil
		}
	}
	tests := []struct {
		name   string
		store  FeatureStore
		model  ModelClient
		body   string
		status int
		want   string
	}{
		{"mean of two", hit, answers(`{"detail":0.04}`, `{"detail":0.05}`), "[5.1, 3.5, 1.4, 0.2]", 200, `{"detail":0.045}`},
		{"store miss is fine", miss, answers(`{"detail":0.04}`), "[1]", 200, `{"detail":0.04}`},
		{"bad body", hit, answers(`{"detail":1}`), "[", 400, "malformed JSON"},
		{"store down", storeFunc(func(context.Context, string) ([]byte, error) { return nil, errors.New("connection refused") }),
			answers(`{"detail":1}`), "[1]", http.StatusServiceUnavailable, "feature store unavailable"},
		{"store timeout", storeFunc(func(context.Context, string) ([]byte, error) {
			return nil, fmt.Errorf("get: %w", context.DeadlineExceeded)
		}),
			answers(`{"detail":1}`), "[1]", http.StatusGatewayTimeout, "feature store timed out"},
		{"model down", hit, modelFunc(func(context.Context, []byte) ([]byte, error) { return nil, errors.New("refused") }),
			"[1]", http.StatusBadGateway, "model service failed"},
		{"model timeout", hit, modelFunc(func(context.Context, []byte) ([]byte, error) { return nil, context.DeadlineExceeded }),
			"[1]", http.StatusGatewayTimeout, "model service timed out"},
		{"model nonsense", hit, answers(`{"x":1}`), "[1]", http.StatusBadGateway, "invalid answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Scoring{Store: tt.store, Model: tt.model, Fanout: 2, StoreTimeout: time.Second, ModelTimeout: time.Second}
			got := s.Handle(context.Background(), seqRuntime{}, []byte(tt.body))
			if got.Status != tt.status || !strings.Contains(string(got.Body), tt.want) {
				t.Fatalf("Handle = %d %s, want %d containing %s", got.Status, got.Body, tt.status, tt.want)
			}
		})
	}
}

func TestModelHandle(t *testing.T) {
	m := &Model{Delay: targetsapi.DelayRange{Min: 0, Max: time.Microsecond}, Rand: NewLockedRand(rand.New(rand.NewPCG(1, 2)))}
	got := m.Handle(context.Background(), seqRuntime{}, []byte("[5.1, 3.5, 1.4, 0.2]"))
	if got.Status != 200 || !strings.HasPrefix(string(got.Body), `{"detail":`) {
		t.Fatalf("Handle = %d %s", got.Status, got.Body)
	}
	got = m.Handle(context.Background(), seqRuntime{}, []byte("[]"))
	if got.Status != 422 {
		t.Fatalf("Handle([]) = %d %s, want 422", got.Status, got.Body)
	}
}

func TestDelayWithinRange(t *testing.T) {
	r := NewLockedRand(rand.New(rand.NewPCG(7, 7)))
	d := targetsapi.DelayRange{Min: 40 * time.Millisecond, Max: 50 * time.Millisecond}
	for range 1000 {
		if v := r.Delay(d); v < d.Min || v > d.Max {
			t.Fatalf("Delay = %v, outside %v", v, d)
		}
	}
}

func TestNextLateness(t *testing.T) {
	avg := time.Duration(0)
	for range 200 {
		avg = NextLateness(avg, 800*time.Microsecond)
	}
	if avg < 790*time.Microsecond || avg > 800*time.Microsecond {
		t.Fatalf("moving average after 200 samples of 800µs = %v", avg)
	}
}
