package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

func TestReasonCodeKeepsOnlyTheBoundedCode(t *testing.T) {
	for reason, want := range map[string]string{
		"dial_failed: dial tcp 127.0.0.3:9: connect: connection refused": "dial_failed",
		"no_original_destination":         "no_original_destination",
		"relay_error: read response: EOF": "relay_error",
		"relayed":                         "relayed",
		"something new: with text":        "other",
		"role_not_allowed":                "role_not_allowed",
		"":                                "other",
	} {
		if got := ReasonCode(reason); got != want {
			t.Errorf("ReasonCode(%q) = %q, want %q", reason, got, want)
		}
	}
}

func TestExchangeCountsRequestsRefusalsBytesAndDurationsWithBoundedLabels(t *testing.T) {
	m := New(Options{Version: "test"})
	m.Exchange("http/1.1", "REDIRECT", "relayed", 100, 2000, 3*time.Millisecond)
	m.Exchange("", "REDIRECT", "dial_failed: dial tcp 10.0.0.1:80: i/o timeout", 0, 0, 0)
	m.Exchange("http/1.1", "DENY", "bad_request", 0, 0, 0)
	m.Exchange("gopher", "MAYBE", "relay_error: boom", 1, 0, time.Millisecond)

	e := m.enforcer
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"http REDIRECT", testutil.ToFloat64(e.requests.WithLabelValues("http/1.1", "REDIRECT")), 1},
		{"none REDIRECT", testutil.ToFloat64(e.requests.WithLabelValues("none", "REDIRECT")), 1},
		{"http DENY", testutil.ToFloat64(e.requests.WithLabelValues("http/1.1", "DENY")), 1},
		{"other other", testutil.ToFloat64(e.requests.WithLabelValues("other", "other")), 1},
		{"refused dial_failed", testutil.ToFloat64(e.refusals.WithLabelValues("dial_failed")), 1},
		{"refused bad_request", testutil.ToFloat64(e.refusals.WithLabelValues("bad_request")), 1},
		{"relay errors", testutil.ToFloat64(e.relayErrors.WithLabelValues("other")), 1},
		{"bytes to destination", testutil.ToFloat64(e.bytes.WithLabelValues("http/1.1", toDestination)), 100},
		{"bytes to agent", testutil.ToFloat64(e.bytes.WithLabelValues("http/1.1", toAgent)), 2000},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	if n := testutil.CollectAndCount(e.duration); n != 2 {
		t.Errorf("duration series: %d, want 2 (http/1.1, other)", n)
	}
	// No free text became a label value.
	out, err := testutil.CollectAndFormat(e.refusals, expfmt.TypeTextPlain)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "10.0.0.1") || strings.Contains(string(out), "timeout") {
		t.Errorf("free text in refusal labels:\n%s", out)
	}
}

func TestFlowAuditAndPolicyFamiliesCount(t *testing.T) {
	m := New(Options{Version: "test"})
	m.Flow("orchestrator", "control", "data", "REDIRECT")
	m.Flow("", "control", "", "DENY")
	m.AuditWritten("flow", time.Millisecond, nil)
	m.AuditWritten("request", 0, errors.New("disk full"))
	m.AuditWritten("checkpoint-ish", time.Millisecond, nil)
	m.PolicyReload(ResultRefused)
	m.ConnOpened()
	m.ConnOpened()
	m.ConnClosed()

	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"connects", testutil.ToFloat64(m.flows.connects.WithLabelValues("control", "data", "REDIRECT")), 1},
		{"connects to no zone", testutil.ToFloat64(m.flows.connects.WithLabelValues("control", "unknown", "DENY")), 1},
		{"agent connects", testutil.ToFloat64(m.flows.agentConnects.WithLabelValues("unknown", "DENY")), 1},
		{"ring-buffer events", testutil.ToFloat64(m.flows.events), 2},
		{"flow records", testutil.ToFloat64(m.audit.records.WithLabelValues("flow")), 1},
		{"other records", testutil.ToFloat64(m.audit.records.WithLabelValues("other")), 1},
		{"request write errors", testutil.ToFloat64(m.audit.errors.WithLabelValues("request")), 1},
		{"refused reloads", testutil.ToFloat64(m.policy.reloads.WithLabelValues(ResultRefused)), 1},
		{"active", testutil.ToFloat64(m.enforcer.active), 1},
		{"accepted", testutil.ToFloat64(m.enforcer.connections), 2},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestRegistryLintsCleanAndInitialisesBoundedFamilies(t *testing.T) {
	m := New(Options{Version: "test"})
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, namespace+"_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
	// Families of fixed label sets exist at 0 before anything happens, so that alerts on their
	// increase fire from the first event.
	if n := testutil.CollectAndCount(m.enforcer.refusals); n != len(refusalReasons)+1 {
		t.Errorf("refusal series before traffic: %d", n)
	}
	if n := testutil.CollectAndCount(m.audit.errors); n != len(auditKinds)+1 {
		t.Errorf("audit error series before traffic: %d", n)
	}
}
