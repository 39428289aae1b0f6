package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"

	"github.com/meshwarden/meshwarden/userspace/identity/credential"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
	"github.com/meshwarden/meshwarden/userspace/tunnel/mux"
)

// peerKey names one pooled connection: the peer's node id and where it listens.
type peerKey struct {
	node spiffeid.ID
	addr string
}

// peer holds the pooled connection to one peer and the attempt to make one, if any: concurrent
// Dials share one handshake.
type peer struct {
	mu      sync.Mutex
	cur     *tunnelConn
	dialing *dialAttempt
}

// tunnelConn is one established connection to a peer.
type tunnelConn struct {
	sess    *mux.Session
	binding credential.Binding // derived once per connection; every presentation is bound to it
}

type dialAttempt struct {
	done chan struct{}
	tc   *tunnelConn
	err  error
}

func (p *peer) usable() *tunnelConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil && p.cur.sess.Usable() {
		return p.cur
	}
	return nil
}

func (p *peer) close() {
	p.mu.Lock()
	cur := p.cur
	p.cur = nil
	p.mu.Unlock()
	if cur != nil {
		_ = cur.sess.Close()
	}
}

// conn returns a usable connection to key, connecting when there is none. The connection
// attempt runs under the client's lifetime and DialTimeout, not ctx: a caller that gives up
// does not fail the others waiting for the same handshake.
func (c *Client) conn(ctx context.Context, key peerKey) (*tunnelConn, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errors.New("tunnel client closed")
	}
	p := c.peers[key]
	if p == nil {
		p = &peer{}
		c.peers[key] = p
	}
	c.mu.Unlock()

	p.mu.Lock()
	if p.cur != nil && p.cur.sess.Usable() {
		tc := p.cur
		p.mu.Unlock()
		return tc, nil
	}
	a := p.dialing
	if a == nil {
		a = &dialAttempt{done: make(chan struct{})}
		p.dialing = a
		go c.connect(key, p, a)
	}
	p.mu.Unlock()
	select {
	case <-a.done:
		return a.tc, a.err
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the connection: %w", ctx.Err())
	}
}

// connect makes one connection attempt and installs the result.
func (c *Client) connect(key peerKey, p *peer, a *dialAttempt) {
	tc, err := c.handshake(key)
	p.mu.Lock()
	a.tc, a.err = tc, err
	if err == nil {
		p.cur = tc // a replaced connection is unusable: dead, or draining after GOAWAY
	}
	p.dialing = nil
	p.mu.Unlock()
	close(a.done)
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed && tc != nil { // Close ran during the handshake
		_ = tc.sess.Close()
	}
}

// handshake connects to one peer: TCP, mutual TLS with the node package's configuration (the
// server must present exactly key.node's id), the binding, the session.
func (c *Client) handshake(key peerKey) (*tunnelConn, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.DialTimeout)
	defer cancel()
	tc, err := c.handshakeCtx(ctx, key)
	if err != nil {
		c.handshakeFails.Add(1)
		c.log.Warn("tunnel connection failed", "peer", key.node.String(), "addr", key.addr, "err", err)
		return nil, err
	}
	c.handshakes.Add(1)
	c.log.Info("tunnel connected", "peer", key.node.String(), "addr", key.addr)
	return tc, nil
}

func (c *Client) handshakeCtx(ctx context.Context, key peerKey) (*tunnelConn, error) {
	raw, err := c.cfg.DialTCP(ctx, "tcp", key.addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	cfg := c.cfg.Identity.ClientConfig(key.node, c.cfg.TLS).Clone()
	cfg.NextProtos = []string{ALPN}
	cfg.DynamicRecordSizingDisabled = true // full 16 KiB records: the peer is an enforcer, not a browser
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	cs := conn.ConnectionState()
	if cs.NegotiatedProtocol != ALPN {
		_ = conn.Close()
		return nil, fmt.Errorf("TLS handshake: peer negotiated application protocol %q, want %q", cs.NegotiatedProtocol, ALPN)
	}
	b, err := credential.BindingFromTLS(cs)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	// In TLS 1.3 the server checks our certificate after we finished: a refusal shows here, as
	// the server's SETTINGS never come.
	sess, err := mux.Client(ctx, conn, mux.Config{
		MaxStreams: c.cfg.MaxStreams,
		Window:     c.cfg.Window,
		KeepAlive:  max(c.cfg.KeepAlive, 0),
		Logger:     c.log,
	})
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	return &tunnelConn{sess: sess, binding: b}, nil
}
