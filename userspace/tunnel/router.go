package tunnel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// Route says that destinations in Prefixes live on node Node, whose enforcer listens at Addr
// (the `nodes:` entries of the local-mode config: name, tunnel address, CIDRs hosted there).
type Route struct {
	Node     spiffeid.ID
	Addr     string
	Prefixes []netip.Prefix
}

// Router is the enforcer's dialer (proxy.Config.Dial): a destination hosted on another node
// goes through the tunnel, any other is dialled directly. Routes can be replaced at any time
// (policy reload).
type Router struct {
	client *Client
	direct DialFunc
	routes atomic.Pointer[[]Route]
}

// NewRouter returns a router over client; direct dials destinations of no route (a net.Dialer
// when nil). The node's own CIDRs must not be routed.
func NewRouter(client *Client, direct DialFunc, routes []Route) *Router {
	if direct == nil {
		direct = (&net.Dialer{}).DialContext
	}
	r := &Router{client: client, direct: direct}
	r.SetRoutes(routes)
	return r
}

// SetRoutes replaces the routes.
func (r *Router) SetRoutes(routes []Route) {
	cp := append([]Route(nil), routes...)
	r.routes.Store(&cp)
}

// Lookup returns the route of dst: the one with the longest matching prefix.
func (r *Router) Lookup(dst netip.Addr) (Route, bool) {
	var best Route
	bits := -1
	dst = dst.Unmap()
	for _, rt := range *r.routes.Load() {
		for _, p := range rt.Prefixes {
			if p.Contains(dst) && p.Bits() > bits {
				best, bits = rt, p.Bits()
			}
		}
	}
	return best, bits >= 0
}

// Dial connects to addr ("ip:port"): through the tunnel when a route holds it, for the source
// in ctx (ContextWithSource; refused without one, never sent in the clear), else directly.
func (r *Router) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	dst, err := netip.ParseAddrPort(addr)
	if err != nil {
		return r.direct(ctx, network, addr)
	}
	rt, ok := r.Lookup(dst.Addr())
	if !ok {
		return r.direct(ctx, network, addr)
	}
	if network != "tcp" && network != "tcp4" && network != "tcp6" {
		return nil, fmt.Errorf("tunnel to %s: network %q is not TCP", rt.Node, network)
	}
	src, ok := SourceFromContext(ctx)
	if !ok {
		return nil, fmt.Errorf("tunnel to %s for %s: %w", rt.Node, addr, errNoSource)
	}
	return r.client.Dial(ctx, rt.Node, rt.Addr, netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port()), src)
}

var errNoSource = errors.New("no source agent in the context (ContextWithSource)")

type sourceKey struct{}

// ContextWithSource returns ctx carrying the source agent of the connection being dialled.
func ContextWithSource(ctx context.Context, src Source) context.Context {
	return context.WithValue(ctx, sourceKey{}, src)
}

// SourceFromContext returns the source set by ContextWithSource.
func SourceFromContext(ctx context.Context) (Source, bool) {
	src, ok := ctx.Value(sourceKey{}).(Source)
	return src, ok
}
