package credential

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/ca"
	"github.com/meshwarden/meshwarden/userspace/identity/clock"
)

// RotationPoint is the fraction of a credential's lifetime after which its rotator re-issues
// it. A request therefore always gets a credential with a third of its lifetime left.
const RotationPoint = 2.0 / 3.0

// ErrNoCredential is returned by Current when there is no unexpired credential to give.
var ErrNoCredential = errors.New("no valid credential")

// CredentialIssuer issues one credential; *Issuer is one.
type CredentialIssuer interface {
	Issue(ctx context.Context, spec Spec) (*Credential, error)
}

// SpecFunc returns what the next credential is issued for. It is called at every issue, so a
// new measurement or a policy change reaches the next credential.
type SpecFunc func(ctx context.Context) (Spec, error)

// StaticSpec is a SpecFunc that always returns s.
func StaticSpec(s Spec) SpecFunc { return func(context.Context) (Spec, error) { return s, nil } }

// RotatorConfig describes one agent's rotator.
type RotatorConfig struct {
	Issuer CredentialIssuer
	Spec   SpecFunc
	Clock  clock.Clock
	Logger *slog.Logger
}

// Rotator keeps one agent's credential fresh, after SPIRE's pkg/agent/svid/rotator.go: Init
// issues the first one, Run re-issues at RotationPoint of each one's lifetime (and on Trigger)
// until its context ends, retrying a failed issue while the current credential lasts.
type Rotator struct {
	issuer  CredentialIssuer
	spec    SpecFunc
	clock   clock.Clock
	log     *slog.Logger
	cur     atomic.Pointer[Credential]
	trigger chan struct{}
}

// NewRotator returns a rotator with no credential yet.
func NewRotator(cfg RotatorConfig) *Rotator {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Rotator{issuer: cfg.Issuer, spec: cfg.Spec, clock: clock.OrReal(cfg.Clock), log: log, trigger: make(chan struct{}, 1)}
}

// Current returns the credential to present now. It never returns one that has expired:
// when rotation has failed for a whole third of a lifetime it returns ErrNoCredential instead,
// and the request is refused at the sender (fail closed).
func (r *Rotator) Current() (*Credential, error) {
	now := r.clock.Now() // read before the load: what is loaded was current at now or later
	c := r.cur.Load()
	if c == nil {
		return nil, ErrNoCredential
	}
	if !now.Before(c.claims.Expiry) {
		return nil, fmt.Errorf("%w: %s expired at %s", ErrNoCredential, c.claims.Subject, c.claims.Expiry.UTC().Format(time.RFC3339Nano))
	}
	return c, nil
}

// Trigger asks Run to re-issue now (after a re-attestation, a policy change or a CA
// rotation that must take effect at once).
func (r *Rotator) Trigger() {
	select {
	case r.trigger <- struct{}{}:
	default:
	}
}

// Init issues the first credential.
func (r *Rotator) Init(ctx context.Context) error { return r.rotate(ctx) }

func (r *Rotator) rotate(ctx context.Context) error {
	spec, err := r.spec(ctx)
	if err != nil {
		return fmt.Errorf("credential spec: %w", err)
	}
	c, err := r.issuer.Issue(ctx, spec)
	if err != nil {
		return err
	}
	r.cur.Store(c)
	r.log.Debug("issued credential", "credential", c)
	return nil
}

// renewAt returns when c should be replaced.
func renewAt(c *Credential) time.Time {
	return c.claims.IssuedAt.Add(time.Duration(float64(c.claims.Lifetime()) * RotationPoint))
}

// Run re-issues the credential until ctx ends. Init must have succeeded, or Run issues first.
func (r *Rotator) Run(ctx context.Context) error {
	var retryAt time.Time
	force := false
	for {
		now := r.clock.Now()
		wake := now
		if c := r.cur.Load(); c != nil && !force {
			wake = renewAt(c)
		}
		if retryAt.After(wake) {
			wake = retryAt
		}
		if !now.Before(wake) {
			retryAt, force = time.Time{}, false
			if err := r.rotate(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				life := time.Minute
				if c := r.cur.Load(); c != nil {
					life = c.claims.Lifetime()
				}
				retryAt = now.Add(ca.RetryInterval(life))
				r.log.Error("rotate credential", "err", err, "retry_at", retryAt)
			}
			continue
		}
		t := r.clock.NewTimer(wake.Sub(now))
		select {
		case <-ctx.Done():
		case <-t.C():
		case <-r.trigger:
			retryAt, force = time.Time{}, true
		}
		t.Stop()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}
