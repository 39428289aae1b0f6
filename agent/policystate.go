package agent

import (
	"time"

	"github.com/meshwarden/meshwarden/agent/api"
	"github.com/meshwarden/meshwarden/userspace/metrics"
)

// policyApplied records that v went live as generation gen; d.seen is its file's digest.
func (d *Daemon) policyApplied(v *view, gen uint32) {
	now := time.Now()
	rules := len(v.pol.Tables().Rules)
	d.obs.metrics.PolicyApplied(now, len(v.pol.Agents), rules)
	d.obs.metrics.SetScope(scopeOf(v.pol))
	d.obs.mu.Lock()
	defer d.obs.mu.Unlock()
	p := &d.obs.policy
	p.Source, p.Digest, p.Generation, p.AppliedAt = v.pol.Source, d.seen, gen, now
	p.Agents, p.Zones, p.ZoneRules = len(v.pol.Agents), len(v.pol.Zones), rules
}

// policyReloaded records the result of one reload attempt of the file with digest sum.
func (d *Daemon) policyReloaded(sum string, err error) {
	r := &api.Reload{Time: time.Now(), Digest: sum, Result: metrics.ResultApplied}
	if err != nil {
		r.Result, r.Error = metrics.ResultRefused, err.Error()
	}
	d.obs.metrics.PolicyReload(r.Result)
	d.obs.mu.Lock()
	d.obs.policy.LastReload = r
	d.obs.mu.Unlock()
}
