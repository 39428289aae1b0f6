// Package proxy is the enforcer's relay: it accepts connections that the kernel redirected to it,
// finds where each one was really going and who made it, dials that destination and relays the
// bytes, auditing every exchange (each HTTP/1.x request, or a whole opaque TCP stream).
//
// The package knows nothing about eBPF: the kernel's record of a redirected connection reaches
// it through a Resolver.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/pep"
)

// Defaults for Config fields left zero.
const (
	defaultDialTimeout   = 5 * time.Second
	defaultIdleTimeout   = 5 * time.Minute
	defaultHeaderTimeout = 10 * time.Second
)

// Origin is what the kernel recorded for a redirected connection.
type Origin struct {
	Dst              netip.AddrPort // original destination
	CgroupID         uint64
	PID              uint32
	Comm             string
	SrcZone, DstZone uint32
	Cookie           uint64 // client socket cookie
}

// Identity is who the calling agent is, from the policy.
type Identity struct {
	AgentID, Role, Zone string
	// Kind is what kind of endpoint the agent is (policy agents[].kind, such as user_facing):
	// the channel of what it receives depends on it. Empty when the policy does not say.
	Kind string
	// SPIFFEID and Measurement, when known, name the agent's SPIFFE id and the measurement of
	// the connecting process (sha256 of its executable); the connection's records carry them.
	SPIFFEID, Measurement string
	// Source, when set, is the agent as the decision engine sees it at a time (credential
	// expiry, attested measurement); nil: pep.DatapathIdentity.
	Source func(now time.Time) pep.Identity
}

// Resolver finds the Origin of an accepted connection from its peer address (the client's
// ip:port). It must be consumed (a second call for the same peer fails).
type Resolver interface {
	Resolve(peer netip.AddrPort) (Origin, error)
}

// Sink receives audit records. Write must be safe for concurrent use.
type Sink interface {
	Write(audit.Record) error
}

// Config configures a Server. Only Resolver and Identify are needed to relay anything: without
// them every connection is refused.
type Config struct {
	Resolver Resolver
	// Identify maps a cgroup to the agent it belongs to. Nil, or false, refuses the connection.
	Identify func(cgroupID uint64) (Identity, bool)
	// IdentifyOrigin, when set, is used instead of Identify, with the whole origin (the
	// process id, for attestation).
	IdentifyOrigin IdentifyOriginFunc
	// ZoneName names a zone id for the audit log. Nil leaves zone names empty.
	ZoneName func(id uint32) string
	// Audit receives one record per exchange or refusal. Nil drops them.
	Audit Sink
	// Dial connects to the original destination. Default: (&net.Dialer{Timeout: 5s}).DialContext.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger may be nil: slog.Default() is used.
	Logger *slog.Logger
	// IdleTimeout closes a relayed connection that carried no bytes either way for this long.
	// Default 5 minutes.
	IdleTimeout time.Duration
	// Engine returns the decision engine of the policy in force. It is called once per
	// exchange, so a reload applies from the next exchange on. When Engine is set, every HTTP
	// request is read within its domain's body limit, parsed, decided on, scrubbed and audited
	// before it is forwarded (see enforce.go), and so is its response; an opaque stream is
	// relayed only in a domain that does not need inspection. When Engine returns nil every
	// exchange is refused. Nil Engine relays without deciding anything: the bare relay, for
	// tests of the relay itself.
	Engine func() *pep.Engine
	// HeaderTimeout bounds how long a client may take to send a whole request head once it has
	// sent its first byte; a slower one is answered 408 and cut off. Default 10 seconds. Only
	// the enforcing path (Engine set) applies it.
	HeaderTimeout time.Duration
	// Observer, when set, is told about connections and exchanges (metrics, live views). Nil
	// changes nothing.
	Observer Observer
	// PayloadSealer seals the payloads of domains with audit_payloads into their exchange
	// records (payload_sealed, response_sealed; see sealing.go). Nil refuses every exchange of
	// such a domain (payload_seal_failed): payloads are never relayed unaudited.
	PayloadSealer *audit.PayloadSealer
}

// Observer is told what the enforcer does. Its methods are called on the connection's own
// goroutine and must return quickly.
type Observer interface {
	// ConnOpened is called when a handler starts on an accepted connection, ConnClosed when it ends.
	ConnOpened()
	ConnClosed()
	// Exchange is called once per exchange or refusal, with the record the audit sink gets.
	Exchange(audit.Record)
}

// Stats are the server's counters since New.
type Stats struct {
	Accepted int64 // connections accepted
	Refused  int64 // closed without relaying: no origin, unknown agent, or dial failed
	Active   int64 // connections being handled now
	Requests int64 // HTTP requests relayed
}

// Server relays redirected connections. Create it with New; one Server may Serve several listeners.
type Server struct {
	cfg   Config
	log   *slog.Logger
	flows *flowTable // per (agent, destination) pseudonyms and calls, across connections

	accepted, refused, active, requests atomic.Int64
}

// New returns a Server for cfg, with defaults filled in.
func New(cfg Config) *Server {
	if cfg.Dial == nil {
		cfg.Dial = (&net.Dialer{Timeout: defaultDialTimeout}).DialContext
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = defaultHeaderTimeout
	}
	s := &Server{cfg: cfg, log: cfg.Logger, flows: newFlowTable()}
	return s
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		Accepted: s.accepted.Load(),
		Refused:  s.refused.Load(),
		Active:   s.active.Load(),
		Requests: s.requests.Load(),
	}
}

// Serve accepts connections on ln and relays each one until ctx is cancelled. Cancelling ctx closes
// ln and every connection in flight; Serve then waits for their handlers and returns nil. If ln
// fails for another reason, Serve closes the connections in flight, waits, and returns the error.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	var conns sync.WaitGroup
	defer conns.Wait()
	defer cancel() // runs before Wait: in-flight connections are closed, then awaited
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()

	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !retryableAccept(err) {
				return fmt.Errorf("proxy: accept on %s: %w", ln.Addr(), err)
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("proxy: accept failed; retrying", "addr", ln.Addr(), "err", err, "backoff", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		backoff = 0
		s.accepted.Add(1)
		conns.Go(func() { s.handle(ctx, conn) })
	}
}

// retryableAccept reports whether an Accept error is about one connection or a passing shortage
// (of file descriptors, buffers) rather than about the listener itself.
func retryableAccept(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNABORTED, syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.EINTR} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// handle takes one accepted connection from identification to the end of its relay. It never
// panics: a panic is logged and only this connection is lost.
func (s *Server) handle(ctx context.Context, client net.Conn) {
	s.active.Add(1)
	defer s.active.Add(-1)
	if o := s.cfg.Observer; o != nil {
		o.ConnOpened()
		defer o.ConnClosed()
	}
	defer func() { _ = client.Close() }()
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("proxy: connection handler panicked", "remote", client.RemoteAddr(), "panic", r, "stack", string(debug.Stack()))
		}
	}()

	peer := peerAddr(client.RemoteAddr())
	origin, err := s.resolve(peer)
	if err != nil {
		s.refuse(client)
		source := client.RemoteAddr().String()
		if peer.IsValid() {
			source = peer.String()
		}
		s.audit(audit.Record{Source: source, Verdict: verdictDeny, Reason: reasonNoOrigin})
		s.log.Warn("proxy: refused connection without original destination", "peer", source, "err", err)
		return
	}

	id, known := s.identifyOrigin(origin)
	base := s.baseRecord(peer, origin, id)
	if !known {
		s.refuse(client)
		s.audit(with(base, func(r *audit.Record) { r.Verdict, r.Reason = verdictDeny, reasonUnknownAgent }))
		s.log.Info("proxy: refused connection from unknown agent", "peer", peer, "dst", origin.Dst, "cgroup_id", origin.CgroupID, "comm", origin.Comm)
		return
	}

	// The dialer's error names the destination already; it goes into the record as it is.
	ctx = ContextWithOrigin(ContextWithIdentity(ctx, id), origin)
	upstream, err := s.cfg.Dial(ctx, "tcp", origin.Dst.String())
	if err != nil {
		s.refuse(client)
		s.audit(with(base, func(r *audit.Record) { r.Verdict, r.Reason = verdictRedirect, reasonDialFailed+err.Error() }))
		s.log.Info("proxy: dial to original destination failed", "peer", peer, "dst", origin.Dst, "agent", id.AgentID, "err", err)
		return
	}
	defer func() { _ = upstream.Close() }()

	newSession(ctx, s, client, upstream, base, id).run()
}

// resolve asks the Resolver for the connection's origin; a missing Resolver or an unusable answer
// is an error, so that the connection is refused.
func (s *Server) resolve(peer netip.AddrPort) (Origin, error) {
	if !peer.IsValid() {
		return Origin{}, errors.New("peer address is not an IP address and port")
	}
	if s.cfg.Resolver == nil {
		return Origin{}, errors.New("no resolver configured")
	}
	origin, err := s.cfg.Resolver.Resolve(peer)
	if err != nil {
		return Origin{}, fmt.Errorf("resolve %s: %w", peer, err)
	}
	if !origin.Dst.IsValid() {
		return Origin{}, fmt.Errorf("resolve %s: origin has no destination", peer)
	}
	return origin, nil
}

func (s *Server) identify(cgroupID uint64) (Identity, bool) {
	if s.cfg.Identify == nil {
		return Identity{}, false
	}
	return s.cfg.Identify(cgroupID)
}

func (s *Server) zoneName(id uint32) string {
	if s.cfg.ZoneName == nil {
		return ""
	}
	return s.cfg.ZoneName(id)
}

// refuse counts a refusal and closes the client with a reset, so that the agent sees an error
// rather than an empty but orderly answer.
func (s *Server) refuse(client net.Conn) {
	s.refused.Add(1)
	if tc, ok := client.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = client.Close()
}

// peerAddr returns a connection's remote address as an AddrPort, with v4-mapped IPv6 addresses
// unmapped (the kernel keys IPv4 clients by their IPv4 address). It is invalid when addr is not
// an IP address and port.
func peerAddr(addr net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := addr.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case nil:
		return netip.AddrPort{}
	default:
		parsed, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.AddrPort{}
		}
		ap = parsed
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
