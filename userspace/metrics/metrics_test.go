package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
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
		"credential_from_the_future":      "credential_other",
		"pipelining_refused":              "pipelining_refused",
		"attestation_mismatch":            "attestation_mismatch",
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
		{"http REDIRECT", testutil.ToFloat64(e.requests.WithLabelValues("none", "http/1.1", "none", "REDIRECT")), 1},
		{"none REDIRECT", testutil.ToFloat64(e.requests.WithLabelValues("none", "none", "none", "REDIRECT")), 1},
		{"http DENY", testutil.ToFloat64(e.requests.WithLabelValues("none", "http/1.1", "none", "DENY")), 1},
		{"other other", testutil.ToFloat64(e.requests.WithLabelValues("none", "other", "none", "other")), 1},
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
	if n := testutil.CollectAndCount(m.enforcer.refusals); n != len(refusalReasons)+len(reasonFamilies)+1 {
		t.Errorf("refusal series before traffic: %d", n)
	}
	if n := testutil.CollectAndCount(m.audit.errors); n != len(auditKinds)+1 {
		t.Errorf("audit error series before traffic: %d", n)
	}
}

func TestEnforcedLabelsByPolicyDomainChannelAndFindingsWithoutPaths(t *testing.T) {
	m := New(Options{Version: "test"})
	m.SetScope(Scope{
		Domains:     []string{"payments"},
		Classifiers: []Classifier{{Domain: "payments", Detector: "ssn", Action: "redact"}},
		Nodes:       []string{"node-b"},
	})
	m.Enforced(audit.Record{
		Protocol: "mcp", Domain: "payments", Channel: "tool_input", Verdict: "REDIRECT", Reason: "relayed",
		DurationNS: int64(time.Millisecond), MaskedKeys: []string{"authorization", "x-user"},
		ReasonCodes: []string{"finding/request/ssn/redact/$.params.arguments.secret_path", "finding/response/unknownthing/explode/$.x"},
	})
	m.Enforced(audit.Record{Protocol: "mcp", Domain: "made-up-by-a-client", Channel: "telepathy", Verdict: "DENY", Reason: "credential_revoked"})
	m.Enforced(audit.Record{Protocol: "mcp", Domain: "payments", Verdict: "DENY", Reason: "attestation_mismatch"})
	m.TunnelHandshake("node-b", TunnelOutbound, nil)
	m.TunnelHandshake("10.1.2.3", TunnelOutbound, errors.New("refused"))
	m.TunnelHandshake("node-b", TunnelInbound, nil)
	m.TunnelHandshake("node-b", TunnelInbound, nil)
	m.TunnelHandshake("", TunnelInbound, errors.New("bad certificate"))
	m.CredentialIssued(false)
	m.CredentialIssued(true)

	e, id := m.enforcer, m.identity
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"payments mcp tool_input", testutil.ToFloat64(e.requests.WithLabelValues("payments", "mcp", "tool_input", "REDIRECT")), 1},
		{"unknown domain and channel", testutil.ToFloat64(e.requests.WithLabelValues("other", "mcp", "other", "DENY")), 1},
		{"scrubbed", testutil.ToFloat64(e.scrubbed.WithLabelValues("payments")), 2},
		{"ssn redact", testutil.ToFloat64(e.classification.WithLabelValues("payments", "ssn", "redact")), 1},
		{"unknown finding", testutil.ToFloat64(e.classification.WithLabelValues("payments", "other", "other")), 1},
		{"refused credential_revoked", testutil.ToFloat64(e.refusals.WithLabelValues("credential_revoked")), 1},
		{"verification credential_revoked", testutil.ToFloat64(id.verifyFailures.WithLabelValues("credential_revoked")), 1},
		{"attestation mismatch", testutil.ToFloat64(id.attestation.WithLabelValues("attestation_mismatch")), 1},
		{"handshake node-b", testutil.ToFloat64(id.handshakes.WithLabelValues("node-b", TunnelOutbound)), 1},
		{"handshake failure other", testutil.ToFloat64(id.handshakeFailures.WithLabelValues("other", TunnelOutbound)), 1},
		{"inbound handshakes node-b", testutil.ToFloat64(id.handshakes.WithLabelValues("node-b", TunnelInbound)), 2},
		{"inbound failure before the peer is known", testutil.ToFloat64(id.handshakeFailures.WithLabelValues("other", TunnelInbound)), 1},
		{"issued", testutil.ToFloat64(id.issued), 2},
		{"rotated", testutil.ToFloat64(id.rotated), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	out, err := testutil.CollectAndFormat(e.classification, expfmt.TypeTextPlain)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "secret_path") || strings.Contains(string(out), "$.") {
		t.Errorf("a finding's path became a label value:\n%s", out)
	}
}

func TestCredentialExpiryIsAbsentWithoutCredentials(t *testing.T) {
	m := New(Options{Version: "test"})
	var exp time.Time
	m.WatchCredentials(func() (time.Time, bool) { return exp, !exp.IsZero() })
	const name = "meshwarden_identity_credential_expiry_seconds"
	if n, err := testutil.GatherAndCount(m.Registry(), name); err != nil || n != 0 {
		t.Fatalf("series without credentials: %d, %v", n, err)
	}
	exp = time.Now().Add(time.Hour)
	if n, err := testutil.GatherAndCount(m.Registry(), name); err != nil || n != 1 {
		t.Fatalf("series with a credential: %d, %v", n, err)
	}
}
