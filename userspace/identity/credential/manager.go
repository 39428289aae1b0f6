package credential

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/meshwarden/meshwarden/userspace/identity/clock"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// Manager runs one Rotator per agent of the node and answers Current(agent) without locking.
type Manager struct {
	issuer CredentialIssuer
	clock  clock.Clock
	log    *slog.Logger

	mu     sync.Mutex // serialises Start and Stop
	agents sync.Map   // spiffeid.ID -> *managed; read-mostly, so Load does not lock
}

type managed struct {
	rot    *Rotator
	cancel context.CancelFunc
	done   chan struct{}
}

// NewManager returns a manager issuing with issuer.
func NewManager(issuer CredentialIssuer, clk clock.Clock, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.Default()
	}
	return &Manager{issuer: issuer, clock: clock.OrReal(clk), log: log.With("component", "identity/credential")}
}

// Start issues agent's first credential and keeps it fresh in the background until ctx ends or
// Stop(agent). Starting an agent that runs already restarts it with the new spec.
func (m *Manager) Start(ctx context.Context, agent spiffeid.ID, spec SpecFunc) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	rot := NewRotator(RotatorConfig{Issuer: m.issuer, Spec: spec, Clock: m.clock, Logger: m.log.With("agent", agent.String())})
	if err := rot.Init(ctx); err != nil {
		return fmt.Errorf("start credentials of %s: %w", agent, err)
	}
	m.stopLocked(agent)
	rctx, cancel := context.WithCancel(ctx)
	e := &managed{rot: rot, cancel: cancel, done: make(chan struct{})}
	m.agents.Store(agent, e)
	go func() {
		defer close(e.done)
		_ = rot.Run(rctx) // returns only when rctx ends
	}()
	return nil
}

// Stop ends agent's rotation and forgets its credential: no new credential is issued, and the
// last one expires within one lifetime (the revocation path when an agent leaves the policy).
func (m *Manager) Stop(agent spiffeid.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopLocked(agent)
}

func (m *Manager) stopLocked(agent spiffeid.ID) {
	v, ok := m.agents.LoadAndDelete(agent)
	if !ok {
		return
	}
	e := v.(*managed)
	e.cancel()
	<-e.done
}

// Close stops every agent.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.agents.Range(func(k, _ any) bool {
		m.stopLocked(k.(spiffeid.ID))
		return true
	})
}

// Current returns agent's credential; see Rotator.Current.
func (m *Manager) Current(agent spiffeid.ID) (*Credential, error) {
	v, ok := m.agents.Load(agent)
	if !ok {
		return nil, fmt.Errorf("%w: %s has no credentials here", ErrNoCredential, agent)
	}
	return v.(*managed).rot.Current()
}

// Present returns the presentation of agent's current credential for one request; see
// Credential.Present.
func (m *Manager) Present(agent spiffeid.ID, b Binding, audience spiffeid.ID, r Request) (Presentation, error) {
	c, err := m.Current(agent)
	if err != nil {
		return Presentation{}, err
	}
	return c.Present(m.clock.Now(), b, audience, r)
}

// Trigger asks agent's rotator to re-issue now.
func (m *Manager) Trigger(agent spiffeid.ID) {
	if v, ok := m.agents.Load(agent); ok {
		v.(*managed).rot.Trigger()
	}
}

// Agents returns the agents being kept fresh.
func (m *Manager) Agents() []spiffeid.ID {
	var out []spiffeid.ID
	m.agents.Range(func(k, _ any) bool {
		out = append(out, k.(spiffeid.ID))
		return true
	})
	return out
}
