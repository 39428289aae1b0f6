package metrics

import (
	"slices"
	"strings"
	"sync"
)

// Scope is what the running policy declares that label values may be: its data domains, the
// detector types and sensitive-field actions its domains use, and its mesh nodes. Label values
// of the domain, detector and peer labels outside the scope are reported as "other" (a domain
// not selected at all as "none"), so their number is bounded by the policy.
type Scope struct {
	Domains []string
	// Classifiers are the (domain, detector, action) triples of the policy: a detector's type,
	// or "field" for a sensitive field, with its action (block, redact, audit).
	Classifiers []Classifier
	Nodes       []string          // mesh nodes (peers of the tunnel)
	Tiers       map[string]string // each domain's protection tier
}

// Classifier is one detector or sensitive field of a domain, by type and action.
type Classifier struct{ Domain, Detector, Action string }

// channels are the fixed channel label values (audit.Channel*); "none" when the record has none.
var channels = []string{"inter_agent", "tool_input", "tool_output", "reasoning", "memory_write", "log", "artifact", "final_output"}

// actions are the classification actions (policy.Action).
var actions = []string{"block", "redact", "audit"}

// detectors are the detector types (policy.DetectorTypes) and "field", a sensitive field.
var detectors = []string{"ssn", "payment_card", "email", "phone", "iban", "canary", "field"}

// scope is the current Scope, as sets.
type scope struct {
	mu      sync.RWMutex
	domains []string
	nodes   []string
}

func (s *scope) domain(d string) string {
	if d == "" {
		return "none"
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return oneOf(d, s.domains)
}

func (s *scope) node(n string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return oneOf(n, s.nodes)
}

// SetScope makes sc the bounds of the domain, detector and peer labels, and initialises the
// series each declared name has (at 0), so that dashboards see them before any traffic. Series
// of names a previous policy declared stay (counters never go back).
func (m *Metrics) SetScope(sc Scope) {
	m.scope.mu.Lock()
	m.scope.domains = slices.Clone(sc.Domains)
	m.scope.nodes = slices.Clone(sc.Nodes)
	m.scope.mu.Unlock()
	m.policy.domains.Reset()
	for _, d := range sc.Domains {
		m.policy.domains.WithLabelValues(d, sc.Tiers[d]).Set(1)
	}
	for _, d := range append([]string{"none"}, sc.Domains...) {
		m.enforcer.scrubbed.WithLabelValues(d)
	}
	for _, c := range sc.Classifiers {
		m.enforcer.classification.WithLabelValues(m.scope.domain(c.Domain), oneOf(c.Detector, detectors), oneOf(c.Action, actions))
	}
	for _, n := range sc.Nodes {
		for _, dir := range []string{TunnelOutbound, TunnelInbound} {
			m.identity.handshakes.WithLabelValues(n, dir)
			m.identity.handshakeFailures.WithLabelValues(n, dir)
		}
	}
}

// parseFinding reads a reason code finding/<direction>/<type>/<action>/<path>: the detector
// type and action only (never the path, which names a place in the payload).
func parseFinding(code string) (detector, action string, ok bool) {
	rest, ok := strings.CutPrefix(code, "finding/")
	if !ok {
		return "", "", false
	}
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 3 {
		return "", "", false
	}
	return oneOf(parts[1], detectors), oneOf(parts[2], actions), true
}
