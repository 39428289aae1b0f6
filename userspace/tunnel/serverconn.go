package tunnel

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"

	"github.com/meshwarden/meshwarden/userspace/identity/credential"
	"github.com/meshwarden/meshwarden/userspace/identity/node"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
	"github.com/meshwarden/meshwarden/userspace/tunnel/mux"
)

// serverConn is one authenticated connection from a peer node.
type serverConn struct {
	srv     *Server
	sess    *mux.Session
	peer    spiffeid.ID
	binding credential.Binding // derived once per connection; presentations must be bound to it
	remote  string
}

// serveConn runs one connection: handshake, then a goroutine per stream until the connection
// or ctx ends.
func (s *Server) serveConn(ctx context.Context, raw net.Conn) {
	remote := raw.RemoteAddr().String()
	c, err := s.handshake(ctx, raw)
	if err != nil {
		_ = raw.Close()
		var r *handshakeRefusal
		if errors.As(err, &r) {
			s.refuse(Refusal{Stage: StageHandshake, Reason: r.reason, Peer: r.peer, RemoteAddr: remote, Err: r.err})
		}
		return
	}
	s.handshakes.Add(1)
	s.connections.Add(1)
	defer s.connections.Add(-1)
	s.log.Info("tunnel peer connected", "peer", c.peer.String(), "remote", remote)
	stop := context.AfterFunc(ctx, func() { _ = c.sess.Close() })
	defer stop()
	defer c.sess.Close()
	var streams sync.WaitGroup
	defer streams.Wait()
	for {
		st, err := c.sess.Accept(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Info("tunnel peer disconnected", "peer", c.peer.String(), "remote", remote, "err", err)
			}
			return
		}
		streams.Go(func() { c.serveStream(ctx, st) })
	}
}

type handshakeRefusal struct {
	reason string
	peer   spiffeid.ID
	err    error
}

func (r *handshakeRefusal) Error() string { return r.reason + ": " + r.err.Error() }

// handshake runs TLS (the node package's configuration: minimum version, client certificate
// verified against the bundle, node id of the trust domain) and starts the session.
func (s *Server) handshake(ctx context.Context, raw net.Conn) (*serverConn, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.HandshakeTimeout)
	defer cancel()
	cfg := s.cfg.Identity.ServerConfig(s.cfg.TLS).Clone()
	cfg.NextProtos = []string{ALPN}
	cfg.DynamicRecordSizingDisabled = true // full 16 KiB records: the peer is an enforcer, not a browser
	tc := tls.Server(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		reason := ReasonTLSHandshake
		if errors.Is(err, node.ErrPeer) {
			reason = ReasonPeerCertificate
		}
		return nil, &handshakeRefusal{reason: reason, err: fmt.Errorf("TLS handshake: %w", err)}
	}
	cs := tc.ConnectionState()
	if cs.NegotiatedProtocol != ALPN {
		return nil, &handshakeRefusal{reason: ReasonTLSHandshake, err: fmt.Errorf("peer negotiated application protocol %q, want %q", cs.NegotiatedProtocol, ALPN)}
	}
	peer, err := node.PeerID(cs)
	if err != nil {
		return nil, &handshakeRefusal{reason: ReasonPeerCertificate, err: err}
	}
	b, err := credential.BindingFromTLS(cs)
	if err != nil {
		return nil, &handshakeRefusal{reason: ReasonSession, peer: peer, err: err}
	}
	sess, err := mux.Server(ctx, tc, s.muxConfig())
	if err != nil {
		return nil, &handshakeRefusal{reason: ReasonSession, peer: peer, err: fmt.Errorf("start session: %w", err)}
	}
	return &serverConn{srv: s, sess: sess, peer: peer, binding: b, remote: raw.RemoteAddr().String()}, nil
}

// serveStream verifies one stream and hands it to the handler. It never panics.
func (c *serverConn) serveStream(ctx context.Context, ms *mux.Stream) {
	s := c.srv
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("tunnel stream handler panicked", "peer", c.peer.String(), "panic", r, "stack", string(debug.Stack()))
			ms.Abort()
		}
	}()
	base := Refusal{Stage: StageStream, Peer: c.peer, RemoteAddr: c.remote}
	dstText, _ := ms.Fields().Get(FieldDestination)
	dst, err := netip.ParseAddrPort(dstText)
	if err != nil || !dst.Addr().IsValid() || dst.Port() == 0 {
		r := base
		r.Status, r.Reason, r.Err = StatusBadRequest, ReasonBadDestination, fmt.Errorf("destination %q is not ip:port", dstText)
		c.answerRefusal(ms, r)
		return
	}
	base.Destination = dst
	presentation, _ := ms.Fields().Get(FieldPresentation)
	v, reason, err := c.verify(presentation)
	if err != nil {
		r := base
		r.Status, r.Reason, r.Err = StatusUnauthorized, reason, err
		c.answerRefusal(ms, r)
		return
	}
	s.streams.Add(1)
	st := &Stream{ms: ms, conn: c, Source: identityOf(v, c.peer), Destination: dst}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-ms.Done():
			if ms.Err() != nil { // reset or connection lost; a clean end leaves ctx alone
				cancel()
			}
		case <-sctx.Done():
		}
	}()
	defer st.finish()
	s.cfg.Handler(sctx, st)
}

// verify checks a presentation made on this connection; on refusal it also returns the
// credential reason code (credential_malformed when the verifier gave none).
func (c *serverConn) verify(presentation string) (*credential.Verified, string, error) {
	v, err := c.srv.cfg.Verifier.Verify(presentation, c.binding, c.peer)
	if err != nil {
		return nil, string(cmp.Or(credential.ReasonOf(err), credential.ReasonMalformed)), err
	}
	return v, "", nil
}

// answerRefusal answers a stream with a refusal status and reason, and reports it.
func (c *serverConn) answerRefusal(ms *mux.Stream, r Refusal) {
	_ = ms.Reply(r.Status, mux.Fields{{Name: FieldReason, Value: r.Reason}})
	c.srv.refuse(r)
}
