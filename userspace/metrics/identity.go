package metrics

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Attestation failure reasons: the PEP's two codes, and a process the daemon could not measure.
const (
	AttestationMissing      = "attestation_missing"
	AttestationMismatch     = "attestation_mismatch"
	AttestationMeasureError = "measure_failed"
)

var attestationReasons = []string{AttestationMissing, AttestationMismatch, AttestationMeasureError}

// verificationReasons are the credential_* codes of verification failures (the tunnel's and
// the PEP's), initialised at 0; others are credential_other.
var verificationReasons = []string{
	"credential_missing", "credential_expired", "credential_not_yet_valid", "credential_bad_signature",
	"credential_unknown_key", "credential_replayed", "credential_revoked", "credential_wrong_audience",
	"credential_malformed", "credential_wrong_node",
}

type identityMetrics struct {
	issued            prometheus.Counter
	rotated           prometheus.Counter
	verifyFailures    *prometheus.CounterVec
	attestation       *prometheus.CounterVec
	handshakes        *prometheus.CounterVec
	handshakeFailures *prometheus.CounterVec
}

func newIdentityMetrics(reg prometheus.Registerer) identityMetrics {
	i := identityMetrics{
		issued: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "identity", Name: "credentials_issued_total",
			Help: "Agent credentials this node issued (first issues and rotations).",
		}),
		rotated: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "identity", Name: "credentials_rotated_total",
			Help: "Agent credentials issued to replace an earlier one of the same agent.",
		}),
		verifyFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "identity", Name: "verification_failures_total",
			Help: "Credentials refused, by the tunnel (a peer's presentation) or the PEP (a local agent's), by credential_* reason code.",
		}, []string{"reason"}),
		attestation: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "identity", Name: "attestation_failures_total",
			Help: "Attestation failures: refusals for a missing or unaccepted measurement, and processes that could not be measured.",
		}, []string{"reason"}),
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "tunnel", Name: "handshakes_total",
			Help: "Tunnel streams whose credential presentation was accepted (mTLS and presentation done), by peer node of the policy and direction: outbound, opened by this node; inbound, verified by this node.",
		}, []string{"peer", "direction"}),
		handshakeFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "tunnel", Name: "handshake_failures_total",
			Help: "Tunnel connections and streams that failed or were refused, by peer node of the policy and direction: outbound, this node's attempts; inbound, peers' attempts this node refused.",
		}, []string{"peer", "direction"}),
	}
	for _, r := range verificationReasons {
		i.verifyFailures.WithLabelValues(r)
	}
	i.verifyFailures.WithLabelValues("credential_" + other)
	for _, r := range attestationReasons {
		i.attestation.WithLabelValues(r)
	}
	reg.MustRegister(i.issued, i.rotated, i.verifyFailures, i.attestation, i.handshakes, i.handshakeFailures)
	return i
}

// CredentialIssued counts a credential issued; rotated when it replaces one of the same agent.
func (m *Metrics) CredentialIssued(rotated bool) {
	m.identity.issued.Inc()
	if rotated {
		m.identity.rotated.Inc()
	}
}

// VerificationFailed counts a credential refused with reason (a credential_* code; others are
// credential_other).
func (m *Metrics) VerificationFailed(reason string) {
	code := oneOf(ReasonCode(reason), verificationReasons)
	if code == other {
		code = "credential_" + other
	}
	m.identity.verifyFailures.WithLabelValues(code).Inc()
}

// AttestationFailed counts an attestation failure (AttestationMissing, AttestationMismatch,
// AttestationMeasureError).
func (m *Metrics) AttestationFailed(reason string) {
	m.identity.attestation.WithLabelValues(oneOf(reason, attestationReasons)).Inc()
}

// Directions of the tunnel families.
const (
	TunnelOutbound = "outbound" // this node opened the stream to the peer
	TunnelInbound  = "inbound"  // the peer opened it to this node
)

// TunnelHandshake counts a tunnel stream with peer node (a name of the policy's nodes; others,
// and peers not yet known when a handshake fails, are "other") in direction (TunnelOutbound or
// TunnelInbound), failed when err is not nil.
func (m *Metrics) TunnelHandshake(peer, direction string, err error) {
	p := m.scope.node(peer)
	if direction != TunnelInbound {
		direction = TunnelOutbound
	}
	if err != nil {
		m.identity.handshakeFailures.WithLabelValues(p, direction).Inc()
		return
	}
	m.identity.handshakes.WithLabelValues(p, direction).Inc()
}

// identityRefusal counts an enforcer refusal whose code is the identity layer's.
func (m *Metrics) identityRefusal(code string) {
	switch {
	case strings.HasPrefix(code, "credential_"):
		m.VerificationFailed(code)
	case code == AttestationMissing || code == AttestationMismatch:
		m.AttestationFailed(code)
	}
}

// WatchCredentials registers meshwarden_identity_credential_expiry_seconds, read at every
// scrape: seconds until the earliest expiry of the node's live agent credentials. earliest
// reports false when there is none; the series is then absent.
func (m *Metrics) WatchCredentials(earliest func() (time.Time, bool)) {
	m.reg.MustRegister(&expiryCollector{earliest: earliest, desc: prometheus.NewDesc(
		namespace+"_identity_credential_expiry_seconds",
		"Seconds until the earliest expiry of this node's live agent credentials (negative once past); absent when there is none.",
		nil, nil)})
}

type expiryCollector struct {
	earliest func() (time.Time, bool)
	desc     *prometheus.Desc
}

func (c *expiryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *expiryCollector) Collect(ch chan<- prometheus.Metric) {
	if t, ok := c.earliest(); ok {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, time.Until(t).Seconds())
	}
}
