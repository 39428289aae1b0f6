package agent

import (
	"context"
	"time"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/identity/credential"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
	"github.com/meshwarden/meshwarden/userspace/metrics"
	"github.com/meshwarden/meshwarden/userspace/pep"
	"github.com/meshwarden/meshwarden/userspace/proxy"
)

// measureTimeout bounds the first measurement of an agent's executable (later ones are a stat).
const measureTimeout = 5 * time.Second

// identifyOrigin is the enforcer's IdentifyOrigin: the agent of the connection's cgroup, with
// the measurement of the connecting process (sha256 of /proc/<pid>/exe, taken now: a binary
// swapped since the last connection is caught here) and its live credential, for the PEP.
func (d *Daemon) identifyOrigin(o proxy.Origin) (proxy.Identity, bool) {
	a, ok := d.cur.Load().agentOf(o.CgroupID)
	if !ok {
		return proxy.Identity{}, false
	}
	id := proxy.Identity{AgentID: a.ID, Role: a.Role, Zone: a.Zone, Kind: a.Kind}
	m := d.mesh
	if m == nil {
		return id, true
	}
	measurement := ""
	if o.PID > 0 && needsMeasurement(d.cur.Load().pol, a) {
		ctx, cancel := context.WithTimeout(context.Background(), measureTimeout)
		meas, err := m.measurer.MeasurePID(ctx, int(o.PID))
		cancel()
		if err != nil {
			d.log.Warn("attestation: cannot measure agent process", "agent", a.ID, "pid", o.PID, "err", err)
			d.obs.metrics.AttestationFailed(metrics.AttestationMeasureError)
		} else {
			measurement = string(meas)
		}
	}
	id.Measurement = measurement
	sid, sidErr := m.agentID(a) // once per connection: the agent and the trust domain are fixed
	if sidErr == nil {
		id.SPIFFEID = sid.String()
	}
	id.Source = func(time.Time) pep.Identity { return m.pepIdentity(a, sid, sidErr, measurement) }
	return id, true
}

// pepIdentity is agent a, whose SPIFFE id is sid (or could not be made: sidErr), as the
// decision engine sees it: its current credential's issue and expiry times (none when it has
// no valid credential, or is revoked), the measurement of the connecting process and the
// measurements its policy accepts.
func (m *mesh) pepIdentity(a policy.Agent, sid spiffeid.ID, sidErr error, measurement string) pep.Identity {
	out := pep.Identity{
		AgentID: a.ID, Role: a.Role, Zone: a.Zone,
		Measurement: measurement, AcceptedMeasurements: a.Attestation,
	}
	if sidErr != nil {
		out.CredentialRefused = string(credential.ReasonMalformed)
		return out
	}
	if m.revoked.IsRevoked(sid) {
		out.CredentialRefused = string(credential.ReasonRevoked)
		return out
	}
	cred, err := m.creds.Current(sid)
	if err != nil {
		return out // no credential: the PEP refuses with credential_missing
	}
	c := cred.Claims()
	out.CredentialIssued, out.CredentialExpiry = c.IssuedAt, c.Expiry
	return out
}

// needsMeasurement reports whether a's measurement can matter: the policy lists the binaries
// a may run, or some domain requires attestation. Others skip hashing their executable.
func needsMeasurement(pol *policy.Policy, a policy.Agent) bool {
	if len(a.Attestation) > 0 {
		return true
	}
	for _, d := range pol.Domains {
		if d.AttestationRequired {
			return true
		}
	}
	return false
}
