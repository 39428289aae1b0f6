package agent

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/identity/credential"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// syncAgents makes the credential manager match pol's agents: it starts credentials for new
// agents, re-issues those whose role, zone or lifetime changed, and stops and revokes those
// the policy no longer names. ctx is the daemon's lifetime (rotation runs until it ends).
func (m *mesh) syncAgents(ctx context.Context, pol *policy.Policy) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.life == nil {
		m.life = ctx
	}
	want := map[spiffeid.ID]policy.Agent{}
	for _, a := range pol.Agents {
		id, err := m.agentID(a)
		if err != nil {
			return fmt.Errorf("agent %q: %w", a.ID, err)
		}
		want[id] = a
	}
	var gone []spiffeid.ID
	for id, old := range m.running {
		if a, ok := want[id]; ok && reflect.DeepEqual(a, old) {
			continue
		}
		m.creds.Stop(id)
		delete(m.running, id)
		if _, ok := want[id]; !ok {
			gone = append(gone, id)
		}
	}
	if len(gone) > 0 {
		// A removed agent's credentials already issued fail here at once, and everywhere
		// else within one lifetime (nothing re-issues them).
		m.revoked.Revoke(gone...)
		m.log.Info("agents removed from the policy: credentials stopped and revoked", "agents", len(gone))
	}
	for id, a := range want {
		if _, ok := m.running[id]; ok || m.revokedByHand[id] {
			continue
		}
		m.revoked.Restore(id) // an agent put back into the policy is trusted again
		spec := credential.Spec{Agent: id, Role: a.Role, Zone: a.Zone, Lifetime: agentLifetime(pol, a)}
		if err := m.creds.Start(ctx, id, credential.StaticSpec(spec)); err != nil {
			return fmt.Errorf("credential for agent %q: %w", a.ID, err)
		}
		m.running[id] = a
	}
	return nil
}

// agentLifetime is the lifetime of a's credentials: the smallest max_token_age_ms of the
// domains its role may send into, else global.credential_rotation_interval_ms.
func agentLifetime(pol *policy.Policy, a policy.Agent) time.Duration {
	var ages []time.Duration
	for _, d := range pol.Domains {
		if slices.Contains(d.AllowedRoles, a.Role) {
			ages = append(ages, d.MaxTokenAge)
		}
	}
	return credential.Lifetime(pol.Global.CredentialRotationInterval, ages...)
}

// revoke revokes agent (a policy agent id or a SPIFFE id) on this node: its presentations
// are refused here from the next request on, and its credentials stop being issued, until the
// daemon restarts (a policy reload does not restore it).
func (m *mesh) revoke(pol *policy.Policy, agent string) (spiffeid.ID, error) {
	id, err := spiffeid.Parse(agent)
	if err != nil {
		found := false
		for _, a := range pol.Agents {
			if a.ID == agent {
				if id, err = m.agentID(a); err != nil {
					return spiffeid.ID{}, err
				}
				found = true
				break
			}
		}
		if !found {
			return spiffeid.ID{}, fmt.Errorf("no agent %q in the policy", agent)
		}
	}
	m.revoked.Revoke(id)
	m.mu.Lock()
	m.revokedByHand[id] = true
	m.creds.Stop(id)
	delete(m.running, id)
	m.mu.Unlock()
	return id, nil
}
