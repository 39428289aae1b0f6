package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestFlowClosedCountsClosesBytesEachWayAndLifetimeWithBoundedLabels(t *testing.T) {
	m := New(Options{Version: "test"})
	m.FlowClosed("ALLOW", 100, 2000, 3*time.Millisecond)
	m.FlowClosed("REDIRECT", 5, 7, time.Second)
	m.FlowClosed("MAYBE", 1, 1, time.Millisecond)

	f := m.flows
	for name, c := range map[string]struct{ got, want float64 }{
		"ALLOW closes":         {testutil.ToFloat64(f.closes.WithLabelValues("ALLOW")), 1},
		"REDIRECT closes":      {testutil.ToFloat64(f.closes.WithLabelValues("REDIRECT")), 1},
		"unknown verdict":      {testutil.ToFloat64(f.closes.WithLabelValues(other)), 1},
		"bytes to destination": {testutil.ToFloat64(f.bytes.WithLabelValues(toDestination)), 106},
		"bytes to agent":       {testutil.ToFloat64(f.bytes.WithLabelValues(toAgent)), 2008},
		"events read":          {testutil.ToFloat64(f.events), 3},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", name, c.got, c.want)
		}
	}
	if n := testutil.CollectAndCount(f.duration); n != 3 {
		t.Errorf("%d duration series, want 3 (one per verdict seen)", n)
	}
	// Label sets are bounded: two directions, verdicts from a fixed set.
	if n := testutil.CollectAndCount(f.bytes); n != 2 {
		t.Errorf("%d byte series, want 2", n)
	}
}
