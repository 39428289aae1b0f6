package proxy

import (
	"net/netip"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// Values of audit.Record fields written by this package.
const (
	verdictDeny     = "DENY"
	verdictRedirect = "REDIRECT"

	reasonNoOrigin     = "no_original_destination"
	reasonUnknownAgent = "unknown_agent"
	reasonDialFailed   = "dial_failed: "
	reasonRelayed      = "relayed"
	reasonBadRequest   = "bad_request"
	reasonRelayError   = "relay_error: "

	protocolTCP   = "tcp"
	protocolHTTP1 = "http/1.1"
)

// baseRecord holds what every record about one connection shares: who called, from where, to where.
func (s *Server) baseRecord(peer netip.AddrPort, origin Origin, id Identity) audit.Record {
	zone := id.Zone
	if zone == "" {
		zone = s.zoneName(origin.SrcZone)
	}
	return audit.Record{
		AgentID:     id.AgentID,
		Role:        id.Role,
		Zone:        zone,
		PID:         origin.PID,
		Comm:        origin.Comm,
		CgroupID:    origin.CgroupID,
		Cookie:      origin.Cookie,
		Source:      peer.String(),
		Destination: origin.Dst.String(),
		DstZone:     s.zoneName(origin.DstZone),
		SPIFFEID:    id.SPIFFEID,
		Measurement: id.Measurement,
	}
}

// with returns a copy of r changed by set.
func with(r audit.Record, set func(*audit.Record)) audit.Record {
	set(&r)
	return r
}

// audit sends one request record to the observer and the sink. A failing sink is logged, never
// fatal to the relay.
func (s *Server) audit(r audit.Record) {
	if s.cfg.Audit == nil && s.cfg.Observer == nil {
		return
	}
	r.Kind = audit.KindRequest
	r.Transport = "tcp"
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	if s.cfg.Observer != nil {
		s.cfg.Observer.Exchange(r)
	}
	if s.cfg.Audit == nil {
		return
	}
	_ = s.writeLogged(r)
}
