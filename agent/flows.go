package agent

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"github.com/meshwarden/meshwarden/loader"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// flowEvent turns one kernel connect() decision into a flow audit record.
func (d *Daemon) flowEvent(ev loader.FlowEvent) {
	v := d.cur.Load()
	r := audit.Record{
		Time:        bootToWall(ev.BootNS),
		Kind:        audit.KindFlow,
		PID:         ev.PID,
		Comm:        ev.Comm,
		CgroupID:    ev.CgroupID,
		Cookie:      ev.Cookie,
		Destination: ev.Dst.String(),
		Zone:        v.pol.ZoneName(ev.SrcZone),
		DstZone:     v.pol.ZoneName(ev.DstZone),
		Transport:   transport(ev.Proto),
		Verdict:     ev.Verdict.String(),
		Reason:      loader.ReasonString(ev.Reason),
	}
	if a, ok := v.agentOf(ev.CgroupID); ok {
		r.AgentID, r.Role = a.ID, a.Role
	}
	d.observeFlow(r)
	// Queued, never waited for: the ring buffer must keep draining. A full queue drops the
	// record, which meshwarden_audit_dropped_records_total counts.
	if err := d.submitAudit(r); err != nil && !errors.Is(err, audit.ErrQueueFull) {
		d.log.Error("audit write failed", "err", err)
	}
}

func transport(proto uint8) string {
	if proto == 17 {
		return "udp"
	}
	return "tcp"
}

// bootToWall converts a CLOCK_BOOTTIME stamp from the kernel to wall-clock time.
func bootToWall(bootNS uint64) time.Time {
	now := time.Now()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return now
	}
	return now.Add(-time.Duration(uint64(ts.Nano()) - bootNS))
}
