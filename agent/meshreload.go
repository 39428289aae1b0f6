package agent

import (
	"context"
	"fmt"

	"github.com/meshwarden/meshwarden/policy"
)

// checkReload refuses a reload that changes what the identity layer was built with.
func (m *mesh) checkReload(old, pol *policy.Policy) error {
	switch {
	case old.Global.TrustDomain != pol.Global.TrustDomain:
		return fmt.Errorf("global.trust_domain changed (%s -> %s): restart the daemon to apply it", old.Global.TrustDomain, pol.Global.TrustDomain)
	case old.Global.TLSMinVersion != pol.Global.TLSMinVersion:
		return fmt.Errorf("global.tls_min_version changed (%s -> %s): restart the daemon to apply it", old.Global.TLSMinVersion, pol.Global.TLSMinVersion)
	case old.Tunnel != pol.Tunnel:
		return fmt.Errorf("the tunnel block changed (%+v -> %+v): restart the daemon to apply it", old.Tunnel, pol.Tunnel)
	}
	return nil
}

// reload applies a new policy's nodes and agents: routes to peers, and credentials (agents
// removed from the policy are stopped and revoked).
func (m *mesh) reload(pol *policy.Policy, self string) error {
	if err := m.setRoutes(pol, self); err != nil {
		return err
	}
	m.mu.Lock()
	life := m.life
	m.mu.Unlock()
	if life == nil {
		life = context.Background()
	}
	return m.syncAgents(life, pol)
}

// revokeAgent is the operator API's identity revoke: agent (policy id or SPIFFE id) is refused
// on this node from its next request on, and no credential is issued to it any more.
func (d *Daemon) revokeAgent(_ context.Context, agent string) (string, error) {
	id, err := d.mesh.revoke(d.cur.Load().pol, agent)
	if err != nil {
		return "", err
	}
	d.system("agent revoked by the operator: " + id.String())
	return id.String(), nil
}
