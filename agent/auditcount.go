package agent

import (
	"errors"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// writeAudit writes one audit record, counting it by kind, or its failure.
func (d *Daemon) writeAudit(r audit.Record) error {
	start := time.Now()
	err := d.audit.Write(r)
	d.obs.metrics.AuditWritten(r.Kind, time.Since(start), err)
	d.countAudit(err)
	return err
}

// countAudit keeps the audit totals that status shows.
func (d *Daemon) countAudit(err error) {
	d.obs.mu.Lock()
	defer d.obs.mu.Unlock()
	if err != nil {
		d.obs.auditErrs++
		d.obs.auditErr, d.obs.auditErrAt = err.Error(), time.Now()
	} else {
		d.obs.auditRecs++
	}
}

// submitAudit queues one audit record without waiting for it to be durable, counting it by
// kind. A full queue is no write error: the log counts it (Dropped) and the caller decides
// what to do, which for the enforcer is to write the record synchronously.
func (d *Daemon) submitAudit(r audit.Record) error {
	err := d.audit.Submit(r)
	if errors.Is(err, audit.ErrQueueFull) {
		return err
	}
	d.obs.metrics.AuditQueued(r.Kind, err)
	d.countAudit(err)
	return err
}

// auditSink is the enforcer's audit sink: the daemon's counted writes, and submissions that do
// not wait for the disk.
type auditSink struct{ d *Daemon }

func (s auditSink) Write(r audit.Record) error  { return s.d.writeAudit(r) }
func (s auditSink) Submit(r audit.Record) error { return s.d.submitAudit(r) }
