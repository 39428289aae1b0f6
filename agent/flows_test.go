package agent

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeDrops is a per-CPU drop counter the test moves by hand.
type fakeDrops struct {
	mu   sync.Mutex
	cpus []uint64
	err  error
}

func (f *fakeDrops) read() ([]uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uint64(nil), f.cpus...), f.err
}

func (f *fakeDrops) set(cpus ...uint64) {
	f.mu.Lock()
	f.cpus = cpus
	f.mu.Unlock()
}

func TestDropWatchReportsEachIncreaseOncePerCPUAndNothingWhenFlat(t *testing.T) {
	src := &fakeDrops{cpus: []uint64{0, 0}}
	var got []string
	w := dropWatch{read: src.read, report: func(m string) { got = append(got, m) }, warn: func(string, ...any) {}}

	w.check() // baseline: nothing lost yet
	w.check()
	if len(got) != 0 {
		t.Fatalf("reports with a flat counter: %q", got)
	}
	src.set(5, 0)
	w.check()
	src.set(5, 0)
	w.check()
	src.set(7, 10)
	w.check()
	want := []string{"5 events", "(cpu0: 5)", "12 events", "(cpu0: 2, cpu1: 10)"}
	if len(got) != 2 || !strings.Contains(got[0], want[0]) || !strings.Contains(got[0], want[1]) ||
		!strings.Contains(got[1], want[2]) || !strings.Contains(got[1], want[3]) {
		t.Fatalf("reports %q, want two: %q", got, want)
	}
	if !strings.HasPrefix(got[0], "kernel ring buffer full:") || !strings.Contains(got[0], "verdicts were enforced") {
		t.Errorf("report wording: %q", got[0])
	}
}

func TestDropWatchFirstReadReportsLossesBeforeTheDaemonWatched(t *testing.T) {
	src := &fakeDrops{cpus: []uint64{3, 4}}
	var got []string
	w := dropWatch{read: src.read, report: func(m string) { got = append(got, m) }, warn: func(string, ...any) {}}
	w.check()
	w.check()
	if len(got) != 1 || !strings.Contains(got[0], "7 events") || !strings.Contains(got[0], "before this daemon started watching") {
		t.Fatalf("reports %q", got)
	}
}

func TestDropWatchCountsARecreatedCounterAsNewLossesAndSurvivesReadErrors(t *testing.T) {
	src := &fakeDrops{cpus: []uint64{100}}
	var got, warned []string
	w := dropWatch{read: src.read, report: func(m string) { got = append(got, m) },
		warn: func(m string, _ ...any) { warned = append(warned, m) }}
	w.check()
	src.mu.Lock()
	src.err = errors.New("map gone")
	src.mu.Unlock()
	w.check()
	src.mu.Lock()
	src.err = nil
	src.mu.Unlock()
	src.set(2)
	w.check()
	if len(warned) != 1 || len(got) != 2 || !strings.Contains(got[1], "2 events") {
		t.Fatalf("reports %q, warnings %q", got, warned)
	}
}

func TestDropWatchReportsAtMostOncePerIntervalAndOnceMoreAtTheEnd(t *testing.T) {
	src := &fakeDrops{cpus: []uint64{0, 0}}
	reports := make(chan string, 10)
	w := dropWatch{read: src.read, report: func(m string) { reports <- m }, warn: func(string, ...any) {}}
	w.check() // the baseline, as the daemon takes it before it announces itself
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	// An interval far longer than the test: only the last check can run.
	go func() { w.run(ctx, time.Hour); close(done) }()
	for i := uint64(1); i <= 50; i++ {
		src.set(i, 2*i)
	}
	select {
	case m := <-reports:
		t.Fatalf("reported inside the interval: %q", m)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	<-done
	if len(reports) != 1 {
		t.Fatalf("%d reports at the end, want 1", len(reports))
	}
	if m := <-reports; !strings.Contains(m, "150 events") || !strings.Contains(m, "(cpu0: 50, cpu1: 100)") {
		t.Errorf("last report %q, want the 150 drops of both CPUs", m)
	}
}
