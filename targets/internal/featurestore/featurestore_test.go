package featurestore

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// Seed fills an empty store and keeps values that are already there.
func TestClientSeed(t *testing.T) {
	m := miniredis.RunT(t) // an empty Redis-protocol server, like a fresh Redis
	const kept = "features:5.1,3.5,1.4,0.2"
	if err := m.Set(kept, `{"mine":1}`); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(ClientConfig{URL: "redis://" + m.Addr(), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	n, err := c.Seed(ctx, SeedData())
	if err != nil || n != len(SeedData())-1 {
		t.Fatalf("Seed = %d, %v; want %d written", n, err, len(SeedData())-1)
	}
	for k, v := range SeedData() {
		got, err := c.Features(ctx, k)
		want := v
		if k == kept {
			want = `{"mine":1}`
		}
		if err != nil || string(got) != want {
			t.Errorf("Features(%q) = %q, %v; want %q", k, got, err, want)
		}
	}
	if n, err := c.Seed(ctx, SeedData()); err != nil || n != 0 {
		t.Fatalf("second Seed = %d, %v; want 0 written", n, err)
	}
	m.Close()
	if _, err := c.Seed(ctx, SeedData()); err == nil {
		t.Fatal("Seed into a stopped store succeeded")
	}
}

// A client with Reseed writes the vectors again when it reconnects to a store that
// restarted empty.
func TestClientReseedOnReconnect(t *testing.T) {
	m := miniredis.RunT(t)
	c, err := NewClient(ClientConfig{URL: "redis://" + m.Addr(), Timeout: time.Second, Reseed: SeedData()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	const key = "features:5.1,3.5,1.4,0.2"
	if got, err := c.Features(ctx, key); err != nil || string(got) != SeedData()[key] {
		t.Fatalf("Features on the first connection = %q, %v; want the seeded vector", got, err)
	}
	// A restart that loses the data: the pooled connection breaks, the next dial reseeds.
	m.Close()
	m.FlushAll()
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Features(ctx, key); err == nil {
		t.Log("the broken pooled connection was not noticed; the next call dials")
	}
	got, err := c.Features(ctx, key)
	if err != nil || string(got) != SeedData()[key] {
		t.Fatalf("Features after the restart = %q, %v; want the vector written again", got, err)
	}
}
