package proxy

import "context"

// IdentifyOriginFunc identifies the agent behind a connection from its whole origin (cgroup
// and process id), for identities that depend on the process (runtime attestation).
type IdentifyOriginFunc func(Origin) (Identity, bool)

type identityKey struct{}

// ContextWithIdentity returns ctx carrying the calling agent's identity: the context given to
// Config.Dial carries it, so a dialer can act for the agent (the node tunnel presents its
// credential).
func ContextWithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFromContext returns the identity ContextWithIdentity put into ctx.
func IdentityFromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// identifyOrigin identifies the agent of origin: with Config.IdentifyOrigin when set, else by
// its cgroup with Config.Identify.
func (s *Server) identifyOrigin(o Origin) (Identity, bool) {
	if s.cfg.IdentifyOrigin != nil {
		return s.cfg.IdentifyOrigin(o)
	}
	return s.identify(o.CgroupID)
}

type originKey struct{}

// ContextWithOrigin returns ctx carrying the origin of the connection being dialled for, so a
// dialer's own records can name the connection (cookie, pid) the enforcer's records name.
func ContextWithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFromContext returns the origin ContextWithOrigin put into ctx.
func OriginFromContext(ctx context.Context) (Origin, bool) {
	o, ok := ctx.Value(originKey{}).(Origin)
	return o, ok
}
