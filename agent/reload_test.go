package agent

import "testing"

// The poll loads changed content only when two reads a poll apart agree: a file caught half
// written (then complete) is loaded once, complete; a change undone before the next poll is not
// loaded at all.
func TestPollLoadsAChangeOnlyWhenTwoReadsAgree(t *testing.T) {
	seen, unsure := "old", ""
	steps := []struct {
		read string
		load bool
	}{
		{"old", false},
		{"half", false}, // the writer is mid-way
		{"new", false},  // complete now, but read once
		{"new", true},   // read twice: load
	}
	for i, s := range steps {
		load := settledChange(seen, &unsure, s.read)
		if load != s.load {
			t.Fatalf("step %d (read %q): load %v, want %v", i, s.read, load, s.load)
		}
		if load {
			seen, unsure = s.read, ""
		}
	}
	if settledChange(seen, &unsure, "other") || settledChange(seen, &unsure, seen) || settledChange(seen, &unsure, "other") {
		t.Fatal("a change undone before the next poll, then seen once again, was loaded")
	}
}
