package credential

import (
	"testing"
	"time"
)

func shardID(shard byte, n byte) [16]byte {
	var id [16]byte
	id[0], id[1] = shard, n
	return id
}

func TestReplayCacheRefusesAnIDWithinItsWindowAndForgetsItAfter(t *testing.T) {
	c := NewReplayCache(1024)
	a := shardID(3, 1)
	if !c.Add(a, t0.Add(time.Second), t0) {
		t.Fatal("first sight refused")
	}
	if c.Add(a, t0.Add(time.Second), t0.Add(500*time.Millisecond)) {
		t.Fatal("replay within the window accepted")
	}
	for i := range byte(50) {
		c.Add(shardID(3, 10+i), t0.Add(time.Second), t0)
	}
	if c.Len() != 51 {
		t.Fatalf("Len %d, want 51", c.Len())
	}
	// Past the window, the next Add in the shard evicts everything expired.
	if !c.Add(shardID(3, 200), t0.Add(3*time.Second), t0.Add(2*time.Second)) {
		t.Fatal("fresh id refused")
	}
	if c.Len() != 1 {
		t.Fatalf("Len %d after expiry, want 1: eviction by expiry failed", c.Len())
	}
}

func TestFullReplayCacheStaysBoundedAndNeverAcceptsWhatItForgot(t *testing.T) {
	c := NewReplayCache(replayShards) // one id per shard
	a, b, d := shardID(0, 1), shardID(0, 2), shardID(0, 3)
	if !c.Add(a, t0.Add(10*time.Second), t0) || !c.Add(b, t0.Add(11*time.Second), t0) {
		t.Fatal("fresh ids refused")
	}
	if c.Len() != 1 {
		t.Fatalf("Len %d, want 1 (bounded)", c.Len())
	}
	if c.Add(a, t0.Add(10*time.Second), t0) {
		t.Fatal("a forgotten id was accepted again")
	}
	if c.Add(d, t0.Add(10*time.Second), t0) {
		t.Fatal("an id no fresher than a forgotten one was accepted")
	}
	if !c.Add(d, t0.Add(12*time.Second), t0) {
		t.Fatal("a fresher id was refused")
	}
	if c.Add(b, t0.Add(11*time.Second), t0) {
		t.Fatal("b replayed after eviction")
	}
}
