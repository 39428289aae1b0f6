package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/identity/node"
	"github.com/meshwarden/meshwarden/userspace/metrics"
	"github.com/meshwarden/meshwarden/userspace/proxy"
	"github.com/meshwarden/meshwarden/userspace/tunnel"
)

// Audit reasons of the tunnel records.
const (
	reasonTunnelOpened    = "tunnel_opened"    // the sender opened a stream to the peer node
	reasonTunnelDelivered = "tunnel_delivered" // the receiver verified the source and delivered
	// the receiver verified the credential presented for one exchange on a stream (an HTTP
	// request the sender's enforcer relayed) and passes it on; its exchange id is the sender's
	reasonExchangeVerified = "exchange_verified"
)

// newTunnelServer builds the receiving side: every stream's presentation is verified by the
// tunnel, then the stream is audited (linked to the sender's record by its exchange id) and
// delivered to its local destination.
func (d *Daemon) newTunnelServer(m *mesh) (*tunnel.Server, error) {
	deliver := tunnel.Deliver((&net.Dialer{}).DialContext, d.log)
	srv, err := tunnel.NewServer(tunnel.ServerConfig{
		Identity: m.me,
		TLS:      node.TLSOptions{MinVersion: m.tlsMin},
		Verifier: m.verifier,
		Handler: func(ctx context.Context, s *tunnel.Stream) {
			if reason := inboundRefusal(d.cur.Load().pol, s.Destination, agentName(s.Source), s.Source.Role, s.Source.Measurement); reason != "" {
				// OnRefuse audits it.
				_ = s.Refuse(tunnel.StatusForbidden, reason,
					fmt.Errorf("no domain of %s admits %s (role %q): %s", s.Destination, s.Source.Agent, s.Source.Role, reason))
				return
			}
			d.tunnelHandshake(s.Source.PeerNode, metrics.TunnelInbound, nil)
			d.auditTunnel(inboundRecord(s.Source, s.Destination, reasonTunnelDelivered))
			s.OnExchange(func(id tunnel.Identity) error {
				// Queued like the enforcer's own records; written synchronously when the queue
				// is full, and the exchange refused when even that fails.
				r := inboundRecord(id, s.Destination, reasonExchangeVerified)
				if err := d.submitAudit(r); errors.Is(err, audit.ErrQueueFull) {
					return d.writeAudit(r)
				} else if err != nil {
					return err
				}
				return nil
			})
			deliver(ctx, s)
		},
		OnRefuse: func(r tunnel.Refusal) {
			switch {
			case strings.HasPrefix(r.Reason, "credential_"):
				d.obs.metrics.VerificationFailed(r.Reason)
			case r.Reason == reasonInboundNoMeasure || r.Reason == reasonInboundMeasurement:
				d.obs.metrics.AttestationFailed(r.Reason)
			}
			if r.Stage != tunnel.StageExchange { // a connection or stream attempt of the peer
				d.tunnelHandshake(r.Peer, metrics.TunnelInbound, errors.New(r.Reason))
			}
			rec := audit.Record{
				Kind: audit.KindRequest, Verdict: "DENY", Reason: r.Reason, Transport: "tcp",
				Source: r.RemoteAddr, ExchangeID: r.ExchangeID,
			}
			if !r.Source.IsZero() {
				rec.SPIFFEID = r.Source.String()
			}
			if r.Destination.IsValid() {
				rec.Destination = r.Destination.String()
			}
			if r.Err != nil {
				rec.Message = fmt.Sprintf("tunnel %s refused from %s: %v", r.Stage, r.RemoteAddr, r.Err)
			}
			d.auditTunnel(rec)
		},
		Logger: d.log,
	})
	if err != nil {
		return nil, fmt.Errorf("tunnel server: %w", err)
	}
	return srv, nil
}

// inboundRecord is the receiving node's record of a verified stream or exchange of source to dst.
func inboundRecord(src tunnel.Identity, dst netip.AddrPort, reason string) audit.Record {
	return audit.Record{
		Kind: audit.KindRequest, Verdict: "ALLOW", Reason: reason, Transport: "tcp",
		AgentID: agentName(src), SPIFFEID: src.Agent.String(), Role: src.Role, Zone: src.Zone,
		Measurement: src.Measurement, Destination: dst.String(), ExchangeID: src.ExchangeID,
		Source: src.PeerNode.String(),
	}
}

// agentName is the policy id of a verified source (the last segment of its SPIFFE id).
func agentName(id tunnel.Identity) string {
	_, name, _ := id.Agent.Agent()
	return name
}

// dial is the enforcer's Dial: destinations hosted by another node go through the tunnel as
// the calling agent (its credential presented per stream), others are dialled directly.
func (d *Daemon) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	m := d.mesh
	dst, perr := netip.ParseAddrPort(addr)
	if perr != nil {
		return m.router.Dial(ctx, network, addr)
	}
	rt, remote := m.router.Lookup(dst.Addr().Unmap())
	if !remote {
		return m.router.Dial(ctx, network, addr)
	}
	caller, ok := proxy.IdentityFromContext(ctx)
	if !ok {
		return nil, fmt.Errorf("tunnel to %s for %s: no calling agent", rt.Node, addr)
	}
	a, ok := d.cur.Load().pol.Agent(caller.AgentID)
	if !ok {
		return nil, fmt.Errorf("tunnel to %s for %s: agent %q is not in the policy", rt.Node, addr, caller.AgentID)
	}
	sid, err := m.agentID(a)
	if err != nil {
		return nil, err
	}
	// the connecting process's measurement is presented with each of its requests
	src := tunnel.Source{Agent: sid, ExchangeID: newTunnelExchangeID(), Measurement: caller.Measurement}
	conn, err := m.router.Dial(tunnel.ContextWithSource(ctx, src), network, addr)
	rec := audit.Record{
		Kind: audit.KindRequest, Verdict: "REDIRECT", Reason: reasonTunnelOpened, Transport: "tcp",
		AgentID: a.ID, SPIFFEID: sid.String(), Role: a.Role, Zone: a.Zone,
		Destination: addr, ExchangeID: src.ExchangeID, TargetService: rt.Node.String(), Measurement: src.Measurement,
	}
	if o, ok := proxy.OriginFromContext(ctx); ok {
		// The enforcer's records of this connection carry the same cookie and pid.
		rec.PID, rec.Comm, rec.CgroupID, rec.Cookie = o.PID, o.Comm, o.CgroupID, o.Cookie
	}
	if err != nil {
		rec.Verdict = "DENY"
		var refused *tunnel.RefusedError
		if errors.As(err, &refused) {
			rec.Reason = refused.Reason
		} else {
			rec.Reason = "tunnel_failed"
		}
		rec.Message = err.Error()
	}
	d.auditTunnel(rec)
	d.tunnelHandshake(rt.Node, metrics.TunnelOutbound, err)
	return conn, err
}

// auditTunnel writes one tunnel record.
func (d *Daemon) auditTunnel(r audit.Record) {
	if err := d.writeAudit(r); err != nil {
		d.log.Error("audit write failed", "err", err)
	}
}

// newTunnelExchangeID returns a random id linking the sender's and the receiver's records.
func newTunnelExchangeID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
