package agent

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/identity/credential"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
	"github.com/meshwarden/meshwarden/userspace/metrics"
)

// issueCounter is the credential manager's issuer, counting what it issues: a first credential
// of an agent, or a rotation.
type issueCounter struct {
	next   credential.CredentialIssuer
	report atomic.Pointer[func(rotated bool)]

	mu   sync.Mutex
	seen map[spiffeid.ID]bool
}

func (c *issueCounter) Issue(ctx context.Context, spec credential.Spec) (*credential.Credential, error) {
	cred, err := c.next.Issue(ctx, spec)
	if err != nil {
		return cred, err
	}
	c.mu.Lock()
	if c.seen == nil {
		c.seen = map[spiffeid.ID]bool{}
	}
	rotated := c.seen[spec.Agent]
	c.seen[spec.Agent] = true
	c.mu.Unlock()
	if f := c.report.Load(); f != nil {
		(*f)(rotated)
	}
	return cred, nil
}

// watchMesh reports m's identity layer to the metrics: credentials issued and rotated, and the
// earliest expiry of the live ones.
func (d *Daemon) watchMesh(m *mesh) {
	if m.issues != nil {
		f := d.obs.metrics.CredentialIssued
		m.issues.report.Store(&f)
	}
	d.obs.metrics.WatchCredentials(func() (time.Time, bool) {
		var first time.Time
		for _, id := range m.creds.Agents() {
			cred, err := m.creds.Current(id)
			if err != nil {
				continue
			}
			if exp := cred.Claims().Expiry; first.IsZero() || exp.Before(first) {
				first = exp
			}
		}
		return first, !first.IsZero()
	})
}

// tunnelHandshake counts a tunnel stream opened (or not) with the peer node id in direction
// (metrics.TunnelOutbound or metrics.TunnelInbound); id is zero when the peer is not known.
func (d *Daemon) tunnelHandshake(id spiffeid.ID, direction string, err error) {
	name, _ := id.Node()
	d.obs.metrics.TunnelHandshake(name, direction, err)
}

// scopeOf is what pol bounds the metrics' labels to: its domains, their detectors and
// sensitive fields by action, and its nodes.
func scopeOf(pol *policy.Policy) metrics.Scope {
	sc := metrics.Scope{Tiers: map[string]string{}}
	for _, dom := range pol.Domains {
		sc.Domains = append(sc.Domains, dom.Name)
		sc.Tiers[dom.Name] = dom.Tier
		for _, det := range dom.Detectors {
			sc.Classifiers = append(sc.Classifiers, metrics.Classifier{Domain: dom.Name, Detector: det.Type, Action: string(det.Action)})
		}
		for _, f := range dom.SensitiveFields {
			sc.Classifiers = append(sc.Classifiers, metrics.Classifier{Domain: dom.Name, Detector: "field", Action: string(f.Action)})
		}
	}
	for _, n := range pol.Nodes {
		sc.Nodes = append(sc.Nodes, n.Name)
	}
	return sc
}
