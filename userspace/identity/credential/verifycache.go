package credential

import (
	"sync"
	"time"
)

// DefaultVerifiedCapacity is how many verified credentials a verifier caches by default. One
// credential per agent and rotation is live at a time, so this covers thousands of agents.
const DefaultVerifiedCapacity = 1 << 14

// verifiedCache remembers credentials whose signature and claims already verified, by the
// sha256 of their token, until they expire: a credential is reused for many requests, and its
// Ed25519 verification is the one expensive step. Time, audience, revocation, node and
// key-still-trusted checks are redone on every request.
type verifiedCache struct {
	mu  sync.RWMutex
	m   map[[32]byte]*Claims
	cap int
}

func newVerifiedCache(capacity int) *verifiedCache {
	if capacity <= 0 {
		capacity = DefaultVerifiedCapacity
	}
	return &verifiedCache{m: make(map[[32]byte]*Claims), cap: capacity}
}

func (c *verifiedCache) get(d *[32]byte) (*Claims, bool) {
	c.mu.RLock()
	cl, ok := c.m[*d]
	c.mu.RUnlock()
	return cl, ok
}

// put stores cl; when full it first drops credentials expired by more than skew, then, if
// still full, an arbitrary one (it is only a cache: a miss costs a verification).
func (c *verifiedCache) put(d *[32]byte, cl *Claims, now time.Time, skew time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.cap {
		for k, v := range c.m {
			if now.After(v.Expiry.Add(skew)) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.cap {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[*d] = cl
}
