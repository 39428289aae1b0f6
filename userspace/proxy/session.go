package proxy

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// session is one accepted connection paired with its dialled upstream. It owns both connections:
// every goroutine it starts ends before run returns, because run closes both connections and waits.
type session struct {
	ctx    context.Context
	srv    *Server
	client net.Conn
	// upstream is replaced when the enforcing path redials a destination that closed an idle
	// connection (redial); upMu guards the swap against closeBoth from other goroutines.
	upMu     sync.Mutex
	upstream net.Conn
	upClosed bool
	base     audit.Record // identity and origin, shared by every record of this connection
	id       Identity     // the calling agent
	origin   netip.AddrPort

	// The enforcing path's state (enforce.go): the (agent, destination) flow this connection
	// belongs to, found at its first exchange; whether the upstream connection already carried
	// an exchange (it is checked for life before the next one); the request body buffer, reused
	// from one exchange to the next.
	flow          *flowState
	upstreamUsed  bool
	upstreamStale bool   // the upstream connection was left mid-response: dial a new one
	bodyBuf       []byte // request bodies
	respBuf       []byte // response bodies read whole
	// domain and tier are those of the decision that let an opaque stream or tunnel through;
	// record copies them into its records.
	domain, tier string

	act *activity
	// Each connection has exactly one reader chain: connReader (activity, header limits) under a
	// bufio.Reader, so that bytes peeked or read ahead are never lost when the protocol changes.
	clientIn, upstreamIn *connReader
	cr, ur               *bufio.Reader
	// Buffered writers for HTTP heads; flushed before every blocking read (see streamBody).
	cw, uw *connWriter

	wg        sync.WaitGroup
	closeOnce sync.Once
}

func newSession(ctx context.Context, srv *Server, client, upstream net.Conn, base audit.Record, id Identity) *session {
	c := &session{ctx: ctx, srv: srv, client: client, upstream: upstream, base: base, id: id, act: newActivity()}
	c.origin, _ = netip.ParseAddrPort(base.Destination)
	cio, uio := newSockIO(client), newSockIO(upstream)
	c.clientIn = &connReader{r: cio, act: c.act, limit: noLimit}
	c.upstreamIn = &connReader{r: uio, act: c.act, limit: noLimit}
	c.cr = bufio.NewReaderSize(c.clientIn, sniffBufferSize)
	c.ur = bufio.NewReader(c.upstreamIn)
	c.cw = newConnWriter(cio)
	c.uw = newConnWriter(uio)
	return c
}

// run relays the connection in the protocol its first bytes show, until both sides are done,
// the connection idles out, or ctx ends.
func (c *session) run() {
	defer c.wg.Wait()
	defer c.closeBoth()
	stopCtx := context.AfterFunc(c.ctx, c.closeBoth)
	defer stopCtx()
	stopIdle := c.act.watchIdle(c.srv.cfg.IdleTimeout, func() {
		c.srv.log.Debug("proxy: closing idle connection", "source", c.base.Source, "destination", c.base.Destination)
		c.closeBoth()
	})
	defer stopIdle()

	switch c.sniff() {
	case protoHTTP1:
		c.serveHTTP()
	default:
		if c.srv.cfg.Engine != nil {
			c.enforceOpaque()
			return
		}
		c.relayOpaque(time.Now())
	}
}

// closeBoth closes both connections, which unblocks every goroutine of the session.
func (c *session) closeBoth() {
	c.closeOnce.Do(func() {
		_ = c.client.Close()
		c.upMu.Lock()
		c.upClosed = true
		_ = c.upstream.Close()
		c.upMu.Unlock()
	})
}

// spawn runs fn in a goroutine of the session. The returned channel is closed when fn has returned;
// a panic in fn is logged and tears the session down instead of the process.
func (c *session) spawn(fn func()) <-chan struct{} {
	done := make(chan struct{})
	c.wg.Go(func() {
		defer close(done)
		defer c.recoverPanic()
		fn()
	})
	return done
}

func (c *session) recoverPanic() {
	if r := recover(); r != nil {
		c.srv.log.Error("proxy: relay goroutine panicked", "source", c.base.Source, "destination", c.base.Destination, "panic", r, "stack", string(debug.Stack()))
		c.closeBoth()
	}
}

// record returns a request record for this connection with the relay fields set.
func (c *session) record(protocol string) audit.Record {
	r := c.base
	r.Protocol = protocol
	r.Verdict = verdictRedirect
	r.Domain, r.Tier = c.domain, c.tier
	return r
}
