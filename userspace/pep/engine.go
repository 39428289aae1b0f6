package pep

import (
	"fmt"
	"time"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/classify"
	"github.com/meshwarden/meshwarden/userspace/scrub"
)

// Engine decides exchanges under one policy. It is immutable and safe for concurrent use.
type Engine struct {
	policy     *policy.Policy
	domains    []domain // one per policy.Domains entry, same order
	protectors map[string]TierProtector
	now        func() time.Time
}

// domain is one policy domain made ready for decisions.
type domain struct {
	policy     *policy.Domain
	roles      map[string]bool
	maxAge     time.Duration
	classifier *classify.Classifier
	metadata   *scrub.Metadata
}

// Option configures an Engine.
type Option func(*Engine)

// WithTierProtector serves a tier with p. PLAINTEXT is served by Plaintext unless replaced;
// a tier without a protector fails closed (tier_unavailable).
func WithTierProtector(tier string, p TierProtector) Option {
	return func(e *Engine) { e.protectors[tier] = p }
}

// WithClock sets the clock credentials are checked against (time.Now by default).
func WithClock(now func() time.Time) Option {
	return func(e *Engine) { e.now = now }
}

// New builds the Engine of a validated policy. The policy must not change afterwards: build a
// new Engine from a new policy instead.
func New(p *policy.Policy, opts ...Option) (*Engine, error) {
	e := &Engine{
		policy:     p,
		protectors: map[string]TierProtector{TierPlaintext: Plaintext{}},
		now:        time.Now,
	}
	for _, o := range opts {
		o(e)
	}
	for i := range p.Domains {
		d := &p.Domains[i]
		c, err := classify.New(d)
		if err != nil {
			return nil, fmt.Errorf("pep engine for %s: %w", p.Source, err)
		}
		roles := make(map[string]bool, len(d.AllowedRoles))
		for _, r := range d.AllowedRoles {
			roles[r] = true
		}
		e.domains = append(e.domains, domain{
			policy:     d,
			roles:      roles,
			maxAge:     p.TokenAge(d),
			classifier: c,
			metadata:   scrub.NewMetadata(d.MaskedKeys),
		})
	}
	return e, nil
}

// Policy returns the policy the Engine was built from.
func (e *Engine) Policy() *policy.Policy { return e.policy }

// BodyLimit returns the body limit the enforcer should read a request with before its body is
// parsed: the largest max_body_bytes among the domains the request may still belong to given
// what is known before the body (destination and path; methods and tools are in the body).
// Decide checks the selected domain's own limit afterwards.
func (e *Engine) BodyLimit(dst Destination, httpPath string) int64 {
	var limit int64
	for i := range e.domains {
		d := e.domains[i].policy
		if d.Match == nil && d.Name != e.policy.DefaultDomain {
			continue
		}
		if d.Match != nil && !d.Match.Any && !preBodyMatch(d.Match, dst, httpPath) {
			continue
		}
		limit = max(limit, d.BodyLimit())
	}
	if limit == 0 {
		return policy.DefaultMaxBodyBytes
	}
	return limit
}

// preBodyMatch reports whether m may match a request to dst at httpPath, whatever its body.
func preBodyMatch(m *policy.Match, dst Destination, httpPath string) bool {
	probe := *m
	probe.JSONRPCMethods, probe.MCPTools, probe.A2AMethods = nil, nil, nil
	return probe.Matches(policy.Request{DstAddr: dst.Addr, DstZone: dst.Zone, DstHost: dst.Host, HTTPPath: httpPath})
}
