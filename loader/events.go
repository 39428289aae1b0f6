package loader

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/cilium/ebpf/ringbuf"

	"github.com/meshwarden/meshwarden/policy"
)

// Reasons a flow event carries (mw_flow_event.reason).
const (
	ReasonRulePort  = 1
	ReasonRuleAny   = 2
	ReasonDefault   = 3
	ReasonNotStream = 4
	ReasonNoRecord  = 5
)

// ReasonString names a flow event reason for the audit log.
func ReasonString(r uint8) string {
	switch r {
	case ReasonRulePort:
		return "zone_rule_port"
	case ReasonRuleAny:
		return "zone_rule_any_port"
	case ReasonDefault:
		return "default_action"
	case ReasonNotStream:
		return "redirect_needs_tcp"
	case ReasonNoRecord:
		return "original_destination_not_stored"
	}
	return fmt.Sprintf("reason_%d", r)
}

// Flow is what the kernel knows of one agent connection: who opened it, where to, the verdict.
type Flow struct {
	BootNS   uint64 // CLOCK_BOOTTIME of the event
	Cookie   uint64 // the agent socket's cookie: the same in a connection's connect and close events
	CgroupID uint64
	PID      uint32 // the process that called connect()
	Comm     string
	Agent    uint32
	SrcZone  uint32
	DstZone  uint32
	Verdict  policy.Verdict // of the connect()
	Dst      netip.AddrPort // the original destination (for REDIRECT, not the enforcer)
}

// FlowEvent is one connect() decision taken by the kernel.
type FlowEvent struct {
	Flow
	Reason uint8
	Proto  uint8 // 6 TCP, 17 UDP
}

// CloseEvent is the close of one agent TCP connection the kernel let through (ALLOW) or handed
// to the enforcer (REDIRECT): reported when the socket reaches TCP_CLOSE (closed, reset, or
// handed to TIME_WAIT).
type CloseEvent struct {
	Flow
	Duration      time.Duration // from established to closed
	BytesSent     uint64        // data sent by the agent and acknowledged by its peer (no SYN or FIN)
	BytesReceived uint64        // data received by the agent (no FIN)
}

// EventHandlers receive what ReadEvents reads; a nil handler drops its events.
type EventHandlers struct {
	Connect func(FlowEvent)
	Close   func(CloseEvent)
}

// pollInterval bounds how long a flow event waits in the ring buffer: programs wake the
// reader only past a fill threshold, so the reader polls on its own.
const pollInterval = 10 * time.Millisecond

// The ring buffer carries two event types, told apart by their size (the C side asserts they differ).
var (
	connectEventSize = binary.Size(mwMwFlowEvent{})
	closeEventSize   = binary.Size(mwMwCloseEvent{})
)

// ReadEvents delivers connect and close events to h until ctx ends.
func (d *Datapath) ReadEvents(ctx context.Context, h EventHandlers) error {
	rd, err := ringbuf.NewReader(d.objs.MwEvents)
	if err != nil {
		return fmt.Errorf("open flow-event ring buffer: %w", err)
	}
	defer rd.Close()
	var rec ringbuf.Record
	for ctx.Err() == nil {
		rd.SetDeadline(time.Now().Add(pollInterval))
		if err := rd.ReadInto(&rec); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return fmt.Errorf("read flow event: %w", err)
		}
		if err := dispatchEvent(rec.RawSample, h); err != nil {
			return err
		}
	}
	return nil
}

// dispatchEvent decodes one ring-buffer sample by its size and hands it to its handler.
func dispatchEvent(sample []byte, h EventHandlers) error {
	switch len(sample) {
	case connectEventSize:
		return deliver(sample, flowEventOf, h.Connect)
	case closeEventSize:
		return deliver(sample, closeEventOf, h.Close)
	}
	return fmt.Errorf("ring-buffer event of %d bytes is neither a flow event (%d) nor a close event (%d)",
		len(sample), connectEventSize, closeEventSize)
}

// deliver decodes sample as a Raw and, when fn is set, hands it the event made of it.
func deliver[Raw, Event any](sample []byte, eventOf func(*Raw) Event, fn func(Event)) error {
	var raw Raw
	if err := binary.Read(bytes.NewReader(sample), binary.LittleEndian, &raw); err != nil {
		return fmt.Errorf("decode %d-byte ring-buffer event: %w", len(sample), err)
	}
	if fn != nil {
		fn(eventOf(&raw))
	}
	return nil
}

// flowOf is what both event types carry of the connection.
func flowOf(ts, cookie, cgroup uint64, pid uint32, comm [16]int8, agent, srcZone, dstZone uint32,
	verdict, family uint8, daddr [16]uint8, dport uint16) Flow {
	return Flow{
		BootNS: ts, Cookie: cookie, CgroupID: cgroup, PID: pid, Comm: commString(comm),
		Agent: agent, SrcZone: srcZone, DstZone: dstZone, Verdict: policy.Verdict(verdict),
		Dst: netip.AddrPortFrom(addrOf(family, daddr), dport),
	}
}

func flowEventOf(raw *mwMwFlowEvent) FlowEvent {
	return FlowEvent{
		Flow: flowOf(raw.TsNs, raw.Cookie, raw.CgroupId, raw.Pid, raw.Comm, raw.Agent, raw.SrcZone, raw.DstZone,
			raw.Verdict, raw.Family, raw.Daddr, raw.Dport),
		Reason: raw.Reason,
		Proto:  raw.Proto,
	}
}

func closeEventOf(raw *mwMwCloseEvent) CloseEvent {
	return CloseEvent{
		Flow: flowOf(raw.TsNs, raw.Cookie, raw.CgroupId, raw.Pid, raw.Comm, raw.Agent, raw.SrcZone, raw.DstZone,
			raw.Verdict, raw.Family, raw.Daddr, raw.Dport),
		Duration:      time.Duration(raw.DurationNs),
		BytesSent:     raw.BytesSent,
		BytesReceived: raw.BytesReceived,
	}
}
