package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/credential"
	"github.com/meshwarden/meshwarden/userspace/identity/node"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
	"github.com/meshwarden/meshwarden/userspace/tunnel/mux"
)

// DefaultDialTimeout bounds connecting to a peer: TCP, TLS and the session start.
const DefaultDialTimeout = 10 * time.Second

// ClientConfig configures the sending side.
type ClientConfig struct {
	Identity    NodeIdentity    // this node: its certificate; peers are checked against the bundle and their node id
	TLS         node.TLSOptions // MinVersion (global.tls_min_version; 1.3 when zero), Bundle, Clock
	Credentials Presenter       // presents the source agents' credentials, one presentation per stream
	// MaxStreams bounds the streams open at once to one peer; Dial waits for a free slot. The
	// server's own bound applies too. mux.DefaultMaxStreams when zero.
	MaxStreams int
	// Window is the receive window per stream; mux.DefaultWindow when zero.
	Window int
	// DialTimeout bounds a new connection (TCP, TLS, session start); DefaultDialTimeout when zero.
	DialTimeout time.Duration
	// KeepAlive pings a silent peer and replaces its connection when it stops answering;
	// DefaultKeepAlive when zero, never when negative.
	KeepAlive time.Duration
	// DialTCP opens the TCP connection to a peer; a net.Dialer when nil.
	DialTCP func(ctx context.Context, network, addr string) (net.Conn, error)
	Logger  *slog.Logger
}

// ClientStats are the client's counters since NewClient.
type ClientStats struct {
	Handshakes     int64 // connections established (TLS and session)
	HandshakeFails int64 // connection attempts that failed
	Connections    int64 // pooled connections usable now
	Streams        int64 // streams opened and accepted by the peer
	StreamsRefused int64 // streams the peer refused
}

// Client opens tunnel streams to peer nodes over pooled connections. It is safe for concurrent
// use.
type Client struct {
	cfg    ClientConfig
	log    *slog.Logger
	ctx    context.Context // ends at Close: bounds every connection
	cancel context.CancelFunc

	mu     sync.Mutex
	peers  map[peerKey]*peer
	closed bool

	handshakes, handshakeFails, streams, streamsRefused atomic.Int64
}

// NewClient checks cfg and returns a client with an empty pool.
func NewClient(cfg ClientConfig) (*Client, error) {
	switch {
	case cfg.Identity == nil:
		return nil, errors.New("tunnel client: no node identity")
	case cfg.Credentials == nil:
		return nil, errors.New("tunnel client: no credential presenter")
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = DefaultKeepAlive
	}
	if cfg.DialTCP == nil {
		cfg.DialTCP = (&net.Dialer{}).DialContext
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Client{
		cfg:    cfg,
		log:    cfg.Logger.With("component", "tunnel/client", "node", cfg.Identity.ID().String()),
		ctx:    ctx,
		cancel: cancel,
		peers:  map[peerKey]*peer{},
	}, nil
}

// Dial opens a stream through the enforcer of node peerNode, listening at peerAddr, to the
// original destination dst, for the source agent src. It reuses the pooled connection to that
// peer (connecting, or reconnecting after a failure, as needed), presents src's credential
// bound to that connection, and returns once the peer has verified it and reached dst. The
// returned net.Conn also has CloseWrite() error (half-close) and Abort(); its RemoteAddr is dst.
// A refusal by the peer is a *RefusedError.
func (c *Client) Dial(ctx context.Context, peerNode spiffeid.ID, peerAddr string, dst netip.AddrPort, src Source) (net.Conn, error) {
	if _, ok := peerNode.Node(); !ok {
		return nil, fmt.Errorf("tunnel dial: peer %q is not a node id", peerNode)
	}
	if !dst.Addr().IsValid() || dst.Port() == 0 {
		return nil, fmt.Errorf("tunnel dial to %s: destination %q is not ip:port", peerNode, dst)
	}
	if src.Agent.Kind() != spiffeid.KindAgent {
		return nil, fmt.Errorf("tunnel dial to %s: source %q is not an agent id", peerNode, src.Agent)
	}
	key := peerKey{node: peerNode, addr: peerAddr}
	for attempt := 0; ; attempt++ {
		tc, err := c.conn(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("tunnel to %s at %s: %w", peerNode, peerAddr, err)
		}
		p, err := c.cfg.Credentials.Present(src.Agent, tc.binding, peerNode, credential.Request{ExchangeID: src.ExchangeID, Measurement: src.Measurement})
		if err != nil { // fail closed: no credential, no stream
			return nil, fmt.Errorf("tunnel to %s: present credential of %s: %w", peerNode, src.Agent, err)
		}
		st, reply, err := tc.sess.Open(ctx, mux.Fields{
			{Name: FieldDestination, Value: dst.String()},
			{Name: FieldPresentation, Value: p.Value()},
		})
		if err != nil {
			// The peer never answered this stream (connection lost, GOAWAY, refused
			// unprocessed): once more on a fresh connection, with a fresh presentation.
			if attempt == 0 && ctx.Err() == nil && retryable(err) {
				c.log.Debug("tunnel stream not processed; retrying on a new connection", "peer", peerNode.String(), "err", err)
				continue
			}
			return nil, fmt.Errorf("tunnel to %s at %s: open stream to %s: %w", peerNode, peerAddr, dst, err)
		}
		if !reply.OK() {
			c.streamsRefused.Add(1)
			reason, _ := reply.Fields.Get(FieldReason)
			return nil, &RefusedError{Peer: peerNode, Destination: dst, Status: reply.Status, Reason: reason}
		}
		c.streams.Add(1)
		binding := tc.binding
		present := func(exchangeID string) (string, error) {
			p, err := c.cfg.Credentials.Present(src.Agent, binding, peerNode, credential.Request{ExchangeID: exchangeID, Measurement: src.Measurement})
			if err != nil {
				return "", fmt.Errorf("present credential of %s: %w", src.Agent, err)
			}
			return p.Value(), nil
		}
		return &Conn{st: st, dst: net.TCPAddrFromAddrPort(dst), present: present}, nil
	}
}

func retryable(err error) bool {
	return errors.Is(err, mux.ErrSessionClosed) || errors.Is(err, mux.ErrGoAway) || errors.Is(err, mux.ErrRefusedStream)
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() ClientStats {
	st := ClientStats{
		Handshakes:     c.handshakes.Load(),
		HandshakeFails: c.handshakeFails.Load(),
		Streams:        c.streams.Load(),
		StreamsRefused: c.streamsRefused.Load(),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.peers {
		if p.usable() != nil {
			st.Connections++
		}
	}
	return st
}

// Close closes every pooled connection (their streams fail) and refuses further Dials.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	peers := c.peers
	c.peers = map[peerKey]*peer{}
	c.mu.Unlock()
	c.cancel()
	for _, p := range peers {
		p.close()
	}
	return nil
}
