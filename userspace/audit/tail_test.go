package audit

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReadLinesFollowsTheLogAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.MaxBytes = 2048
	w := open(t, opts)
	appendN(t, w, 0, 5)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	seen := map[uint64]bool{}
	done := make(chan error, 1)
	go func() {
		done <- ReadLines(ctx, opts.Path, true, 5*time.Millisecond, func(line []byte) error {
			r, err := ParseRecord(line)
			if err != nil {
				t.Errorf("line %q: %v", line, err)
				return nil
			}
			mu.Lock()
			seen[r.Seq] = true
			mu.Unlock()
			return nil
		})
	}()
	// ReadLines starts at the file at path: let it open the log before the first rotation.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the follower read %d of the first 5 records", n)
		}
	}
	for i := range 20 {
		appendN(t, w, 5+i*5, 5)
		time.Sleep(2 * time.Millisecond)
	}
	closeWriter(t, w)
	if rotated, _ := rotatedFiles(opts.Path); len(rotated) < 3 {
		t.Fatalf("%d rotations, want at least 3", len(rotated))
	}
	var last uint64
	for _, f := range logFiles(t, dir) {
		for _, r := range records(t, f) {
			last = max(last, r.Seq)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == int(last) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("followed %d of %d records", n, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestReadLinesSkipsAnUnfinishedLastLine(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	w := open(t, opts)
	appendN(t, w, 0, 2)
	closeWriter(t, w)
	appendBytes(t, opts.Path, []byte(`{"v":1,"seq":4`))
	n := 0
	if err := ReadLines(context.Background(), opts.Path, false, 0, func([]byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("%d lines, want 3", n)
	}
}

func TestFilterMatchesSourceOrTargetAgentDomainVerdictAndKind(t *testing.T) {
	r := fullRecord()
	for _, c := range []struct {
		f    Filter
		want bool
	}{
		{Filter{}, true},
		{Filter{Agent: "orchestrator"}, true},
		{Filter{Agent: "retriever"}, true},
		{Filter{Agent: "executor"}, false},
		{Filter{Domain: "pii_inference", Verdict: "allow", Kind: KindMessage}, true},
		{Filter{Domain: "coordination"}, false},
		{Filter{Verdict: "DENY"}, false},
		{Filter{Kind: KindFlow}, false},
	} {
		if got := c.f.Match(&r); got != c.want {
			t.Errorf("%+v: %v, want %v", c.f, got, c.want)
		}
	}
}

func TestFormatTextIsOneLineWithTheSetFields(t *testing.T) {
	r := fullRecord()
	r.Seq = 42
	r.Message = "two words\nand a line"
	s := FormatText(&r)
	if strings.Contains(s, "\n") {
		t.Fatalf("not one line: %q", s)
	}
	for _, want := range []string{"#42 message ALLOW", "agent=orchestrator", "tool=lookup_patient", "channel=tool_input", `msg="two words\nand a line"`} {
		if !strings.Contains(s, want) {
			t.Errorf("%q lacks %q", s, want)
		}
	}
	if s := FormatText(&Record{Kind: KindSystem}); strings.Contains(s, "=") {
		t.Errorf("empty fields printed: %q", s)
	}
}
