package credential

import (
	"sync"
	"sync/atomic"

	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// Revocations is the set of revoked agents. Reads are one atomic load; every change installs a
// new immutable set, so a verifier never sees half an update.
type Revocations struct {
	mu  sync.Mutex // serialises writers
	set atomic.Pointer[map[spiffeid.ID]struct{}]
}

// NewRevocations returns an empty set.
func NewRevocations() *Revocations {
	r := &Revocations{}
	r.set.Store(&map[spiffeid.ID]struct{}{})
	return r
}

// IsRevoked reports whether agent is revoked.
func (r *Revocations) IsRevoked(agent spiffeid.ID) bool {
	_, ok := (*r.set.Load())[agent]
	return ok
}

// Revoke adds agents to the set.
func (r *Revocations) Revoke(agents ...spiffeid.ID) {
	r.update(func(m map[spiffeid.ID]struct{}) {
		for _, a := range agents {
			m[a] = struct{}{}
		}
	})
}

// Restore removes agents from the set.
func (r *Revocations) Restore(agents ...spiffeid.ID) {
	r.update(func(m map[spiffeid.ID]struct{}) {
		for _, a := range agents {
			delete(m, a)
		}
	})
}

// Replace makes the set exactly agents (for a policy reload).
func (r *Revocations) Replace(agents []spiffeid.ID) {
	m := make(map[spiffeid.ID]struct{}, len(agents))
	for _, a := range agents {
		m[a] = struct{}{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.set.Store(&m)
}

// List returns the revoked agents.
func (r *Revocations) List() []spiffeid.ID {
	m := *r.set.Load()
	out := make([]spiffeid.ID, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	return out
}

func (r *Revocations) update(f func(map[spiffeid.ID]struct{})) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.set.Load()
	m := make(map[spiffeid.ID]struct{}, len(old)+1)
	for a := range old {
		m[a] = struct{}{}
	}
	f(m)
	r.set.Store(&m)
}
