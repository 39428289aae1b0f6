package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// auditKinds are the record kinds the audit families are initialised with; a kind not in it is
// counted as "other".
var auditKinds = []string{"flow", "request", "response", "message", "decision", "system"}

// auditWriteBuckets are the classic buckets of audit write latencies, in seconds.
var auditWriteBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// auditExporters are the exporters the export families always have series for; another name
// is counted as "other".
var auditExporters = []string{"stdout", "webhook"}

// auditFsyncBuckets are the classic buckets of audit log fsyncs, in seconds.
var auditFsyncBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

type auditMetrics struct {
	records *prometheus.CounterVec
	errors  *prometheus.CounterVec
	// recordsOf and errorsOf hold the two families' counter of each kind (auditKinds and
	// other), made once: a record is counted without a label lookup.
	recordsOf, errorsOf map[string]prometheus.Counter
	duration            prometheus.Histogram
	fsync               prometheus.Histogram
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
		fsync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "audit", Name: "fsync_duration_seconds",
			Help:                            "Time the audit log's fsync of one group-committed batch took.",
			Buckets:                         auditFsyncBuckets,
			NativeHistogramBucketFactor:     nativeBucketFactor,
			NativeHistogramMaxBucketNumber:  nativeMaxBuckets,
			NativeHistogramMinResetDuration: nativeMinResetDuration,
		}),
	}
	a.recordsOf, a.errorsOf = map[string]prometheus.Counter{}, map[string]prometheus.Counter{}
	for _, k := range append(auditKinds, other) {
		a.recordsOf[k] = a.records.WithLabelValues(k)
		a.errorsOf[k] = a.errors.WithLabelValues(k)
	}
	reg.MustRegister(a.records, a.errors, a.duration, a.fsync)
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
	counters := m.audit.recordsOf
	if err != nil {
		counters = m.audit.errorsOf
	}
	c, ok := counters[kind]
	if !ok {
		c = counters[other]
	}
	c.Inc()
}

// AuditFsynced observes one fsync of the audit log that took d: the audit log's OnFsync.
func (m *Metrics) AuditFsynced(d time.Duration) {
	m.audit.fsync.Observe(d.Seconds())
}

// AuditLog is what the audit log tells of itself at each scrape. *audit.Writer is one.
type AuditLog interface {
	Stats() audit.Stats
	ExportStats() []audit.ExportStats
}

// WatchAudit registers the families read from the audit log itself at every scrape: its
// queue, checkpoints, rotations and exporters.
func (m *Metrics) WatchAudit(l AuditLog) {
	m.reg.MustRegister(newAuditCollector(l))
}

func auditDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "audit", name), help, labels, nil)
}

type auditCollector struct {
	l AuditLog

	dropped, queued, checkpoints, rotations                    *prometheus.Desc
	exportRecords, exportBatches, exportFailures, exportQueued *prometheus.Desc
}

func newAuditCollector(l AuditLog) *auditCollector {
	return &auditCollector{
		l:           l,
		dropped:     auditDesc("dropped_records_total", "Records the audit log refused to queue because its queue was full. The enforcer then writes its records synchronously (back-pressure); kernel flow records are lost (they must not stall the ring buffer)."),
		queued:      auditDesc("queue_records", "Records waiting in the audit log's queue for the next group commit."),
		checkpoints: auditDesc("checkpoints_total", "Signed chain checkpoints the audit log wrote."),
		rotations:   auditDesc("rotations_total", "Audit log files rotated (by size or age)."),
		exportRecords: auditDesc("export_records_total", "Committed audit lines (records and checkpoints) an exporter handled, by result: sent (delivered), "+
			"queue_full (dropped: its queue was full), given_up (dropped: a send error that is not retried, or the shutdown deadline). "+
			"Zero for exporters that are not configured.", "exporter", "result"),
		exportBatches:  auditDesc("export_batches_total", "Batches an exporter delivered.", "exporter"),
		exportFailures: auditDesc("export_send_failures_total", "Failed send attempts of an exporter (retried or not).", "exporter"),
		exportQueued:   auditDesc("export_queue_records", "Audit lines waiting in an exporter's queue.", "exporter"),
	}
}

func (c *auditCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.dropped, c.queued, c.checkpoints, c.rotations, c.exportRecords, c.exportBatches, c.exportFailures, c.exportQueued} {
		ch <- d
	}
}

func (c *auditCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	st := c.l.Stats()
	counter(c.dropped, st.Dropped)
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(st.Queued))
	counter(c.checkpoints, st.Checkpoints)
	counter(c.rotations, st.Rotations)

	byName := map[string]audit.ExportStats{}
	for _, e := range c.l.ExportStats() {
		name := oneOf(e.Name, auditExporters)
		sum := byName[name]
		sum.Queued += e.Queued
		sum.Sent += e.Sent
		sum.Batches += e.Batches
		sum.Failures += e.Failures
		sum.DroppedFull += e.DroppedFull
		sum.DroppedGivenUp += e.DroppedGivenUp
		byName[name] = sum
	}
	names := auditExporters
	if _, ok := byName[other]; ok {
		names = append(names[:len(names):len(names)], other)
	}
	for _, name := range names {
		e := byName[name]
		counter(c.exportRecords, e.Sent, name, "sent")
		counter(c.exportRecords, e.DroppedFull, name, "queue_full")
		counter(c.exportRecords, e.DroppedGivenUp, name, "given_up")
		counter(c.exportBatches, e.Batches, name)
		counter(c.exportFailures, e.Failures, name)
		ch <- prometheus.MustNewConstMetric(c.exportQueued, prometheus.GaugeValue, float64(e.Queued), name)
	}
}
