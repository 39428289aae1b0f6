package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// auditKinds are the record kinds the audit families are initialised with; a kind not in it is
// counted as "other".
var auditKinds = []string{"flow", "request", "response", "message", "decision", "system"}

// auditWriteBuckets are the classic buckets of audit write latencies, in seconds.
var auditWriteBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

type auditMetrics struct {
	records  *prometheus.CounterVec
	errors   *prometheus.CounterVec
	duration prometheus.Histogram
}

func newAuditMetrics(reg prometheus.Registerer) auditMetrics {
	a := auditMetrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "audit", Name: "records_total",
			Help: "Audit records the daemon handed to the audit log and the log accepted (written, or queued for its group commit), by kind.",
		}, []string{"kind"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "audit", Name: "write_errors_total",
			Help: "Audit records the audit log failed to write or refused to queue, by kind.",
		}, []string{"kind"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "audit", Name: "write_duration_seconds",
			Help:                            "Time from handing a record to the audit log until it is acknowledged durable (queueing, group commit and fsync), for the writes that wait for it.",
			Buckets:                         auditWriteBuckets,
			NativeHistogramBucketFactor:     nativeBucketFactor,
			NativeHistogramMaxBucketNumber:  nativeMaxBuckets,
			NativeHistogramMinResetDuration: nativeMinResetDuration,
		}),
	}
	for _, k := range append(auditKinds, other) {
		a.records.WithLabelValues(k)
		a.errors.WithLabelValues(k)
	}
	reg.MustRegister(a.records, a.errors, a.duration)
	return a
}

// AuditWritten counts one record of kind written in d; err non-nil counts a write error instead.
func (m *Metrics) AuditWritten(kind string, d time.Duration, err error) {
	m.AuditQueued(kind, err)
	if err == nil {
		m.audit.duration.Observe(d.Seconds())
	}
}

// AuditQueued counts one record of kind the audit log accepted into its queue without the
// caller waiting for the disk; err non-nil counts a refusal (a full queue) instead.
func (m *Metrics) AuditQueued(kind string, err error) {
	kind = oneOf(kind, auditKinds)
	if err != nil {
		m.audit.errors.WithLabelValues(kind).Inc()
		return
	}
	m.audit.records.WithLabelValues(kind).Inc()
}

// AuditQueue is what the audit log tells of its queue. *audit.Writer is one.
type AuditQueue interface {
	Dropped() uint64 // records dropped because the queue was full
}

// WatchAudit registers the families read from the audit log itself at every scrape.
func (m *Metrics) WatchAudit(q AuditQueue) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "audit", Name: "dropped_records_total",
		Help: "Records the audit log refused to queue because its queue was full. The enforcer then writes its records synchronously (back-pressure); kernel flow records are lost (they must not stall the ring buffer).",
	}, func() float64 { return float64(q.Dropped()) }))
}
