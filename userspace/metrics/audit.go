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
			Help: "Audit records the daemon handed to the audit log and had acknowledged as written, by kind.",
		}, []string{"kind"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "audit", Name: "write_errors_total",
			Help: "Audit records the audit log failed to write, by kind.",
		}, []string{"kind"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "audit", Name: "write_duration_seconds",
			Help:                            "Time from handing a record to the audit log until it is acknowledged durable (queueing, group commit and fsync).",
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
	kind = oneOf(kind, auditKinds)
	if err != nil {
		m.audit.errors.WithLabelValues(kind).Inc()
		return
	}
	m.audit.records.WithLabelValues(kind).Inc()
	m.audit.duration.Observe(d.Seconds())
}
