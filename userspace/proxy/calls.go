package proxy

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// callTable remembers a flow's JSON-RPC requests under the pseudonyms their ids were given, so
// that an answer carrying the pseudonym (on the same connection or, for MCP's HTTP+SSE
// transport, on the flow's event stream) is understood: which method and tool it answers. It
// holds at most max calls, forgetting the oldest first. Safe for concurrent use; it is a
// protocol.CallLookup.
type callTable struct {
	mu    sync.Mutex
	max   int
	calls map[string]protocol.Call
	order []string
}

func newCallTable(max int) *callTable {
	return &callTable{max: max, calls: map[string]protocol.Call{}}
}

// add remembers call under id (a string or json.Number, as the body carries it).
func (t *callTable) add(id any, call protocol.Call) {
	k, ok := idKey(id)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.calls[k]; !dup {
		t.order = append(t.order, k)
	}
	t.calls[k] = call
	for len(t.calls) > t.max && len(t.order) > 0 {
		delete(t.calls, t.order[0])
		t.order = t.order[1:]
	}
	if len(t.order) > 2*t.max {
		live := t.order[:0]
		for _, k := range t.order {
			if _, ok := t.calls[k]; ok {
				live = append(live, k)
			}
		}
		t.order = live
	}
}

// forget drops the call answered under id.
func (t *callTable) forget(id any) {
	if k, ok := idKey(id); ok {
		t.mu.Lock()
		delete(t.calls, k)
		t.mu.Unlock()
	}
}

// LookupCall finds the call an answer with this id (as sent) answers.
func (t *callTable) LookupCall(raw json.RawMessage) (protocol.Call, bool) {
	k, ok := rawIDKey(raw)
	if !ok {
		return protocol.Call{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.calls[k]
	return c, ok
}

// rawIDKey is idKey of an id as sent: a string without escapes and a number are read in place,
// anything else is decoded.
func rawIDKey(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && bytes.IndexByte(raw[1:n-1], '\\') < 0 && bytes.IndexByte(raw[1:n-1], '"') < 0 {
		return "s:" + string(raw[1:n-1]), true
	}
	if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return intKey(i), true
	}
	var id any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&id) != nil {
		return "", false
	}
	return idKey(id)
}

// intKey is the key of an integer id, made in one allocation.
func intKey(i int64) string {
	var b [24]byte
	return string(strconv.AppendInt(append(b[:0], "n:"...), i, 10))
}

// idKey is the form ids are compared in: equal strings, and numbers equal as numbers, have
// the same key.
func idKey(id any) (string, bool) {
	switch x := id.(type) {
	case string:
		return "s:" + x, true
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return intKey(i), true
		}
		f, err := x.Float64()
		if err != nil {
			return "", false
		}
		return "n:" + strconv.FormatFloat(f, 'g', -1, 64), true
	}
	return "", false
}
