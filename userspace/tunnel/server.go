package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/node"
	"github.com/meshwarden/meshwarden/userspace/tunnel/mux"
)

// Defaults of ServerConfig and ClientConfig.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultKeepAlive        = 30 * time.Second
)

// Handler serves one verified stream. It decides (Accept or Refuse), and on Accept delivers the
// bytes; the stream is closed when it returns. ctx ends when the stream is reset, its
// connection fails, or the server stops.
type Handler func(ctx context.Context, s *Stream)

// ServerConfig configures the receiving side.
type ServerConfig struct {
	Identity NodeIdentity    // this node: its certificate and the peer checks
	TLS      node.TLSOptions // MinVersion (global.tls_min_version; 1.3 when zero), Authorize, Bundle, Clock
	Verifier Verifier        // checks every stream's presentation
	Handler  Handler         // serves verified streams
	// OnRefuse receives every refusal, for audit and metrics. It is called synchronously and
	// must not block for long. Nil drops them (they are still logged).
	OnRefuse func(Refusal)
	// MaxStreams bounds the streams open at once on one connection; mux.DefaultMaxStreams when
	// zero.
	MaxStreams int
	// Window is the receive window per stream; mux.DefaultWindow when zero.
	Window int
	// HandshakeTimeout bounds TLS plus the session start; DefaultHandshakeTimeout when zero.
	HandshakeTimeout time.Duration
	// KeepAlive pings a silent client and drops it when it stops answering; DefaultKeepAlive
	// when zero, never when negative.
	KeepAlive time.Duration
	Logger    *slog.Logger
}

// ServerStats are the server's counters since NewServer.
type ServerStats struct {
	Handshakes       int64 // connections that completed TLS and started a session
	HandshakeRefused int64 // connections refused during the handshake
	Connections      int64 // connections open now
	Streams          int64 // streams verified and handed to the handler
	StreamsRefused   int64 // streams refused (destination, credential, policy, delivery)
}

// Server accepts tunnel connections from peer nodes.
type Server struct {
	cfg ServerConfig
	log *slog.Logger

	handshakes, handshakeRefused, connections, streams, streamsRefused atomic.Int64
}

// NewServer checks cfg and returns a server.
func NewServer(cfg ServerConfig) (*Server, error) {
	switch {
	case cfg.Identity == nil:
		return nil, errors.New("tunnel server: no node identity")
	case cfg.Verifier == nil:
		return nil, errors.New("tunnel server: no credential verifier")
	case cfg.Handler == nil:
		return nil, errors.New("tunnel server: no handler")
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = DefaultKeepAlive
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("component", "tunnel/server", "node", cfg.Identity.ID().String())
	return &Server{cfg: cfg, log: log}, nil
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{
		Handshakes:       s.handshakes.Load(),
		HandshakeRefused: s.handshakeRefused.Load(),
		Connections:      s.connections.Load(),
		Streams:          s.streams.Load(),
		StreamsRefused:   s.streamsRefused.Load(),
	}
}

// ListenAndServe listens on addr (":15008" style) and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("tunnel server: listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts connections on ln until ctx ends; then it closes ln and every connection
// (GOAWAY first), waits for the handlers, and returns nil. Another failure of ln is returned
// after the same clean-up.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	var conns sync.WaitGroup
	defer conns.Wait()
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	s.log.Info("tunnel listening", "addr", ln.Addr().String())
	var backoff time.Duration
	for {
		raw, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !retryableAccept(err) {
				return fmt.Errorf("tunnel server: accept on %s: %w", ln.Addr(), err)
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("tunnel accept failed; retrying", "err", err, "backoff", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		backoff = 0
		conns.Go(func() { s.serveConn(ctx, raw) })
	}
}

// retryableAccept reports whether an Accept error concerns one connection or a passing
// shortage rather than the listener.
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

func (s *Server) muxConfig() mux.Config {
	return mux.Config{
		MaxStreams: s.cfg.MaxStreams,
		Window:     s.cfg.Window,
		KeepAlive:  max(s.cfg.KeepAlive, 0),
		Logger:     s.log,
	}
}

// refuse counts, logs and reports a refusal.
func (s *Server) refuse(r Refusal) {
	if r.Stage == StageHandshake {
		s.handshakeRefused.Add(1)
	} else {
		s.streamsRefused.Add(1)
	}
	s.log.Info("tunnel refused", "stage", r.Stage, "reason", r.Reason, "status", r.Status,
		"peer", r.Peer.String(), "remote", r.RemoteAddr, "dst", r.Destination.String(), "err", r.Err)
	if s.cfg.OnRefuse != nil {
		s.cfg.OnRefuse(r)
	}
}
