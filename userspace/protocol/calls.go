package protocol

import (
	"encoding/json"
	"sync"
)

// Call is what a JSON-RPC request asked, remembered so that its response can be understood.
type Call struct {
	Protocol Protocol
	Method   string
	// Name is the tool or prompt name (MCP tools/call, prompts/get).
	Name string
}

// CallLookup finds the request a JSON-RPC response id answers.
type CallLookup interface {
	LookupCall(id json.RawMessage) (Call, bool)
}

// LookupCall finds the request of this body with the given id.
func (b *Body) LookupCall(id json.RawMessage) (Call, bool) {
	if b == nil {
		return Call{}, false
	}
	var buf [64]byte
	k := appendIDKey(buf[:0], id)
	if b.calls != nil {
		c, ok := b.calls[string(k)]
		return c, ok
	}
	if b.has1 && b.key1 == string(k) {
		return b.call1, true
	}
	return Call{}, false
}

// indexCall indexes one of the body's JSON-RPC requests (m.Type is RPCRequest) by id, when the
// body is parsed; name is m.Params.Get("name").Str(). A later request with the same id replaces
// an earlier one.
func (b *Body) indexCall(m *RPC, name string) {
	k := idKey(m.ID)
	c := Call{Protocol: b.Protocol, Method: m.Method, Name: name}
	if b.calls == nil {
		if !b.has1 || b.key1 == k {
			b.key1, b.call1, b.has1 = k, c, true
			return
		}
		b.calls = map[string]Call{b.key1: b.call1}
	}
	b.calls[k] = c
}

// Calls remembers the requests of a session whose responses arrive elsewhere: on the event stream
// of MCP's legacy HTTP+SSE transport (or a Streamable HTTP GET stream), replies to POSTs made on
// other connections. It holds at most a fixed number of calls, forgetting the oldest first, and
// is safe for concurrent use.
type Calls struct {
	mu    sync.Mutex
	max   int
	m     map[string]Call
	order []string
}

// NewCalls returns a registry of at most max calls (1,024 when max <= 0).
func NewCalls(max int) *Calls {
	if max <= 0 {
		max = 1024
	}
	return &Calls{max: max, m: make(map[string]Call)}
}

// Record remembers the requests of a parsed request body.
func (c *Calls) Record(b *Body) {
	if b == nil || b.RPC == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range b.RPC.Messages {
		m := &b.RPC.Messages[i]
		if m.Type != RPCRequest {
			continue
		}
		k := idKey(m.ID)
		if _, ok := c.m[k]; !ok {
			c.order = append(c.order, k)
		}
		c.m[k] = Call{Protocol: b.Protocol, Method: m.Method, Name: m.Params.Get("name").Str()}
		for len(c.m) > c.max && len(c.order) > 0 {
			delete(c.m, c.order[0])
			c.order = c.order[1:]
		}
	}
	if len(c.order) > 2*c.max {
		live := c.order[:0]
		for _, k := range c.order {
			if _, ok := c.m[k]; ok {
				live = append(live, k)
			}
		}
		c.order = live
	}
}

// LookupCall finds a remembered request by id.
func (c *Calls) LookupCall(id json.RawMessage) (Call, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var buf [64]byte
	call, ok := c.m[string(appendIDKey(buf[:0], id))]
	return call, ok
}

// Forget drops a request once its final response has been seen.
func (c *Calls) Forget(id json.RawMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, idKey(id))
}
