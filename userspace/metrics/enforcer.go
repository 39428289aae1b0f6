package metrics

import (
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"

	"github.com/prometheus/client_golang/prometheus"
)

// Native histograms: each bucket at most 10% wider than the one before, at most 160 buckets,
// reset at most once an hour when they would grow past that. Classic buckets are exported too,
// for servers that do not ingest native histograms.
const (
	nativeBucketFactor     = 1.1
	nativeMaxBuckets       = 160
	nativeMinResetDuration = time.Hour
)

// durationBuckets are the classic buckets of exchange durations, in seconds: from a fast
// loopback exchange (100 µs) to a long LLM stream (30 s).
var durationBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Directions of relayed bytes.
const (
	toDestination = "to_destination" // from the agent towards the original destination
	toAgent       = "to_agent"       // from the destination back to the agent
)

type enforcerMetrics struct {
	connections prometheus.Counter
	active      prometheus.Gauge
	listeners   prometheus.Gauge
	requests    *prometheus.CounterVec
	refusals    *prometheus.CounterVec
	relayErrors *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	bytes       *prometheus.CounterVec

	scrubbed       *prometheus.CounterVec
	classification *prometheus.CounterVec
}

func newEnforcerMetrics(reg prometheus.Registerer) enforcerMetrics {
	e := enforcerMetrics{
		connections: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "enforcer", Name: "connections_total",
			Help: "Redirected connections accepted by the enforcer.",
		}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "enforcer", Name: "active_connections",
			Help: "Connections the enforcer is handling now.",
		}),
		listeners: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "enforcer", Name: "listeners",
			Help: "Sockets the enforcer accepts redirected connections on (IPv4, and IPv6 where the host has it); 0 while it does not listen.",
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "enforcer", Name: "requests_total",
			Help: "Exchanges the enforcer audited (HTTP requests, opaque TCP streams, and connections refused before any exchange, protocol \"none\"), by data domain (\"none\" when no domain was selected), protocol, channel and verdict.",
		}, []string{"domain", "protocol", "channel", "verdict"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "enforcer", Name: "refusals_total",
			Help: "Connections or requests the enforcer refused, by reason code.",
		}, []string{"reason"}),
		relayErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "enforcer", Name: "relay_errors_total",
			Help: "Exchanges that broke off after the request was read (a side closed or failed mid-exchange), by protocol.",
		}, []string{"protocol"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "enforcer", Name: "request_duration_seconds",
			Help:                            "Time from reading a request to writing its response (an opaque TCP stream: the whole connection), by data domain and protocol.",
			Buckets:                         durationBuckets,
			NativeHistogramBucketFactor:     nativeBucketFactor,
			NativeHistogramMaxBucketNumber:  nativeMaxBuckets,
			NativeHistogramMinResetDuration: nativeMinResetDuration,
		}, []string{"domain", "protocol"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "enforcer", Name: "bytes_total",
			Help: "Body bytes relayed (whole streams for opaque TCP), by protocol and direction (to_destination: agent to destination; to_agent: back).",
		}, []string{"protocol", "direction"}),
		scrubbed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "enforcer", Name: "scrubbed_keys_total",
			Help: "Headers and metadata keys the enforcer removed, normalised or pseudonymised, by data domain.",
		}, []string{"domain"}),
		classification: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "enforcer", Name: "classification_hits_total",
			Help: "Findings of the domain's classification (a detector type, or \"field\" for a sensitive field), by data domain, detector and action.",
		}, []string{"domain", "detector", "action"}),
	}
	for _, r := range refusalReasons {
		e.refusals.WithLabelValues(r)
	}
	e.refusals.WithLabelValues(other)
	for _, f := range reasonFamilies {
		e.refusals.WithLabelValues(f + other)
	}
	reg.MustRegister(e.connections, e.active, e.listeners, e.requests, e.refusals, e.relayErrors, e.duration, e.bytes,
		e.scrubbed, e.classification)
	return e
}

// ConnOpened counts a connection the enforcer accepted and starts handling.
func (m *Metrics) ConnOpened() {
	m.enforcer.connections.Inc()
	m.enforcer.active.Inc()
}

// ConnClosed is called once a connection counted by ConnOpened is done with.
func (m *Metrics) ConnClosed() { m.enforcer.active.Dec() }

// SetListeners sets how many sockets the enforcer listens on.
func (m *Metrics) SetListeners(n int) { m.enforcer.listeners.Set(float64(n)) }

// Exchange counts one audited exchange of the enforcer: its protocol (empty when refused
// before any byte), verdict and reason as the audit log writes them, the body bytes each way,
// and its duration (0 when nothing was relayed). It knows no domain, channel or finding; the
// daemon reports through Enforced.
func (m *Metrics) Exchange(protocol, verdict, reason string, bytesIn, bytesOut int64, d time.Duration) {
	m.Enforced(audit.Record{Protocol: protocol, Verdict: verdict, Reason: reason, BytesIn: bytesIn, BytesOut: bytesOut, DurationNS: int64(d)})
}

// Enforced counts one exchange record of the enforcer (the one the audit sink gets): requests
// by domain, protocol, channel and verdict; refusals by reason code; the duration by domain;
// bytes; scrubbed keys by domain; classification hits by detector and action, read from the
// record's finding/<direction>/<type>/<action>/<path> reason codes (never the path); and
// credential and attestation refusals of the identity metrics.
func (m *Metrics) Enforced(r audit.Record) {
	p := protocolLabel(r.Protocol)
	dom := m.scope.domain(r.Domain)
	ch := "none"
	if r.Channel != "" {
		ch = oneOf(r.Channel, channels)
	}
	m.enforcer.requests.WithLabelValues(dom, p, ch, oneOf(r.Verdict, verdicts)).Inc()
	switch code := ReasonCode(r.Reason); code {
	case reasonRelayed:
	case reasonRelayError:
		m.enforcer.relayErrors.WithLabelValues(p).Inc()
	default:
		m.enforcer.refusals.WithLabelValues(code).Inc()
		m.identityRefusal(code)
	}
	if r.DurationNS > 0 {
		m.enforcer.duration.WithLabelValues(dom, p).Observe(time.Duration(r.DurationNS).Seconds())
	}
	if r.BytesIn > 0 {
		m.enforcer.bytes.WithLabelValues(p, toDestination).Add(float64(r.BytesIn))
	}
	if r.BytesOut > 0 {
		m.enforcer.bytes.WithLabelValues(p, toAgent).Add(float64(r.BytesOut))
	}
	if n := len(r.MaskedKeys); n > 0 {
		m.enforcer.scrubbed.WithLabelValues(dom).Add(float64(n))
	}
	for _, c := range r.ReasonCodes {
		if det, act, ok := parseFinding(c); ok {
			m.enforcer.classification.WithLabelValues(dom, det, act).Inc()
		}
	}
}
