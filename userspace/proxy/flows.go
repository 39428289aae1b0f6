package proxy

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshwarden/meshwarden/userspace/scrub"
)

// A flow is everything one agent sends to one destination, over any number of connections:
// the scope of its pseudonyms (an MCP session, an A2A task outlive the TCP connection that
// began them, and keep-alive pools open several) and of the JSON-RPC calls whose answers may
// arrive on another connection (MCP's HTTP+SSE transport answers POSTs on its GET stream).
const (
	// flowIdleTTL is how long an unused flow is kept.
	flowIdleTTL = 30 * time.Minute
	// flowSweepEvery is how often, at most, idle flows are looked for.
	flowSweepEvery = time.Minute
	// flowMaxPseudonyms bounds one generation of a flow's pseudonyms (see pseudonyms).
	flowMaxPseudonyms = 1 << 16
	// flowMaxCalls bounds the calls a flow remembers for answers on other connections.
	flowMaxCalls = 4096
)

type flowKey struct{ agent, destination string }

// flowState is one flow's shared state. Safe for concurrent use.
type flowState struct {
	pseudo   pseudonyms
	calls    *callTable
	lastUsed atomic.Int64 // unix nanoseconds
}

// flowTable holds the flows of a Server.
type flowTable struct {
	mu        sync.Mutex
	flows     map[flowKey]*flowState
	lastSweep time.Time
}

func newFlowTable() *flowTable {
	return &flowTable{flows: map[flowKey]*flowState{}, lastSweep: time.Now()}
}

// get returns the flow of agent to destination, creating it when needed.
func (t *flowTable) get(agent, destination string) (*flowState, error) {
	now := time.Now()
	k := flowKey{agent, destination}
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.lastSweep) >= flowSweepEvery {
		t.lastSweep = now
		for key, f := range t.flows {
			if now.Sub(time.Unix(0, f.lastUsed.Load())) > flowIdleTTL {
				delete(t.flows, key)
			}
		}
	}
	f, ok := t.flows[k]
	if !ok {
		p, err := scrub.NewPseudonymizer(flowMaxPseudonyms)
		if err != nil {
			return nil, fmt.Errorf("flow %s -> %s: %w", agent, destination, err)
		}
		f = &flowState{calls: newCallTable(flowMaxCalls)}
		f.pseudo.gen.Store(&generations{cur: p})
		t.flows[k] = f
	}
	f.lastUsed.Store(now.UnixNano())
	return f, nil
}

// pseudonyms is a flow's Pseudonymizer in two generations: when the current one is full, it
// becomes the previous one (still revealing what it hid) and a fresh one takes its place, so a
// long-lived flow never runs out and its table stays bounded. Identifiers hidden again after a
// rotation get new pseudonyms.
type pseudonyms struct {
	gen atomic.Pointer[generations] // set when the flow is made, never nil after
}

// generations is one state of a flow's pseudonyms; a rotation replaces it whole, so a reader
// sees a current generation and the one before it, never a mix of two rotations.
type generations struct {
	cur, prev *scrub.Pseudonymizer
}

// hide returns the pseudonym of id.
func (p *pseudonyms) hide(kind scrub.Kind, id any) (any, error) {
	g := p.gen.Load()
	out, err := g.cur.Pseudonym(kind, id)
	if !errors.Is(err, scrub.ErrFull) {
		return out, err
	}
	fresh, err := scrub.NewPseudonymizer(flowMaxPseudonyms)
	if err != nil {
		return nil, err
	}
	if !p.gen.CompareAndSwap(g, &generations{cur: fresh, prev: g.cur}) {
		// Another exchange rotated first: use its fresh generation.
		g = p.gen.Load()
		return g.cur.Pseudonym(kind, id)
	}
	return fresh.Pseudonym(kind, id)
}

// reveal returns the identifier a pseudonym of this flow stands for.
func (p *pseudonyms) reveal(kind scrub.Kind, pseudonym any) (any, bool) {
	g := p.gen.Load()
	if v, ok := g.cur.Reveal(kind, pseudonym); ok {
		return v, true
	}
	if g.prev != nil {
		return g.prev.Reveal(kind, pseudonym)
	}
	return nil, false
}

// forget drops a pseudonym whose exchange is over.
func (p *pseudonyms) forget(kind scrub.Kind, pseudonym any) {
	g := p.gen.Load()
	g.cur.Forget(kind, pseudonym)
	if g.prev != nil {
		g.prev.Forget(kind, pseudonym)
	}
}
