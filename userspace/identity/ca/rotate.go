package ca

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/clock"
)

// RotationPoint is the fraction of the active CA's lifetime after which Run rotates it. The
// remaining third is the overlap during which the old CA is still trusted.
const RotationPoint = 2.0 / 3.0

// Prepare creates a new generation and publishes it in the bundle without letting it sign yet,
// so peers can learn it before anything it signs reaches them. It returns its key id.
func (a *Authority) Prepare(ctx context.Context) (string, error) {
	if a.store == nil {
		return "", ErrExternal
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	g, err := a.createGeneration(ctx)
	if err != nil {
		return "", fmt.Errorf("prepare CA: %w", err)
	}
	st := a.st.Load()
	if err := a.publish(st.active, append(slices.Clone(st.gens), g)); err != nil {
		return "", fmt.Errorf("prepare CA: %w", err)
	}
	a.log.Info("prepared CA", "kid", g.kid, "not_after", g.cert.NotAfter)
	return g.kid, nil
}

// Activate makes the prepared generation kid the signing one. The previous generation's key is
// deleted; its certificate stays in the bundle until it expires.
func (a *Authority) Activate(ctx context.Context, kid string) error {
	if a.store == nil {
		return ErrExternal
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.st.Load()
	if st.active.kid == kid {
		return nil
	}
	i := slices.IndexFunc(st.gens, func(g *generation) bool { return g.kid == kid })
	if i < 0 || st.gens[i].key == nil {
		return fmt.Errorf("activate CA %s: no such prepared generation", kid)
	}
	next := st.gens[i]
	if err := a.store.setActive(kid); err != nil {
		return fmt.Errorf("activate CA %s: %w", kid, err)
	}
	gens := a.retireOlderKeys(next, st.gens)
	if err := a.publish(next, gens); err != nil {
		return fmt.Errorf("activate CA %s: %w", kid, err)
	}
	a.log.Info("activated CA", "kid", kid, "previous_kid", st.active.kid, "previous_trusted_until", st.active.cert.NotAfter)
	return nil
}

// Rotate prepares a new generation and activates it at once.
func (a *Authority) Rotate(ctx context.Context) error {
	kid, err := a.Prepare(ctx)
	if err != nil {
		return err
	}
	return a.Activate(ctx, kid)
}

// retireOlderKeys drops (from memory and disk) the keys of generations older than active.
// A failure to delete is logged, not fatal: the generation no longer signs either way.
func (a *Authority) retireOlderKeys(active *generation, gens []*generation) []*generation {
	out := make([]*generation, 0, len(gens))
	for _, g := range gens {
		if g != active && g.key != nil && g.cert.NotBefore.Before(active.cert.NotBefore) {
			if err := a.store.retireKey(g.kid); err != nil {
				a.log.Warn("retire CA key", "kid", g.kid, "err", err)
			}
			g = &generation{kid: g.kid, cert: g.cert}
		}
		out = append(out, g)
	}
	return out
}

// Prune drops every generation whose certificate has expired (never the active one) and
// retires stray keys of generations older than the active one.
func (a *Authority) Prune(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.st.Load()
	now := a.clock.Now()
	var kept []*generation
	for _, g := range st.gens {
		if g != st.active && !now.Before(g.cert.NotAfter) {
			if a.store != nil {
				if err := a.store.removeGeneration(g.kid); err != nil {
					return fmt.Errorf("prune CA: %w", err)
				}
			}
			a.log.Info("dropped expired CA from bundle", "kid", g.kid, "expired", g.cert.NotAfter)
			continue
		}
		kept = append(kept, g)
	}
	if a.store != nil {
		kept = a.retireOlderKeys(st.active, kept)
	}
	if len(kept) == len(st.gens) && slices.Equal(kept, st.gens) {
		return nil
	}
	return a.publish(st.active, kept)
}

// Run keeps the authority current until ctx ends: it rotates the active CA at RotationPoint of
// its lifetime (local mode only) and prunes generations as they expire. A failed rotation is
// retried every RetryInterval(lifetime).
func (a *Authority) Run(ctx context.Context) error {
	var retryAt time.Time
	for {
		changed := a.Changed()
		st := a.st.Load()
		now := a.clock.Now()
		wake := time.Time{}
		rotateAt := time.Time{}
		if a.store != nil {
			g := st.active
			rotateAt = g.cert.NotBefore.Add(time.Duration(float64(g.lifetime()) * RotationPoint))
			wake = rotateAt
			if retryAt.After(wake) {
				wake = retryAt
			}
		}
		for _, g := range st.gens {
			if g != st.active && (wake.IsZero() || g.cert.NotAfter.Before(wake)) {
				wake = g.cert.NotAfter
			}
		}
		if !wake.IsZero() && !wake.After(now) {
			retryAt = time.Time{}
			if !rotateAt.IsZero() && !rotateAt.After(now) {
				if err := a.Rotate(ctx); err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					retryAt = now.Add(RetryInterval(st.active.lifetime()))
					a.log.Error("rotate CA", "err", err, "retry_at", retryAt)
				}
			}
			if err := a.Prune(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				a.log.Error("prune CA", "err", err)
			}
			continue
		}
		var timer clock.Timer
		var timerC <-chan time.Time
		if !wake.IsZero() {
			timer = a.clock.NewTimer(wake.Sub(now))
			timerC = timer.C()
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-timerC:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// RetryInterval is how long a failed rotation of something valid for lifetime waits before the
// next attempt: a 24th of the lifetime, between 10 ms and one minute.
func RetryInterval(lifetime time.Duration) time.Duration {
	return min(max(lifetime/24, 10*time.Millisecond), time.Minute)
}
