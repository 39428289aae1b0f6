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
// transport, on the flow's event stream) is understood: which method and tool it answers; and
// the pseudonyms of their progress tokens, forgotten with the answer. It holds at most max
// calls, forgetting the oldest first (the progress pseudonym of a call dropped so is left to the
// pseudonym table's own bound). Safe for concurrent use; it is a
// protocol.CallLookup.
type callTable struct {
	mu    sync.Mutex
	max   int
	calls map[idKeyForm]callEntry
	order []idKeyForm
}

// callEntry is a request remembered: its call, and the pseudonym its MCP progress token was
// given (nil when it has none), which lives as long as the request is unanswered.
type callEntry struct {
	call     protocol.Call
	progress any
}

func newCallTable(max int) *callTable {
	return &callTable{max: max, calls: map[idKeyForm]callEntry{}}
}

// add remembers call under id (a string or json.Number, as the body carries it), with the
// pseudonym of the request's progress token (nil for none).
func (t *callTable) add(id any, call protocol.Call, progress any) {
	k, ok := idKey(id)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.calls[k]; !dup {
		t.order = append(t.order, k)
	}
	t.calls[k] = callEntry{call: call, progress: progress}
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

// forget drops the call answered under id, and returns the pseudonym of its progress token
// (nil for none), which the answer ends too.
func (t *callTable) forget(id any) (progress any) {
	k, ok := idKey(id)
	if !ok {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.calls[k]
	delete(t.calls, k)
	return e.progress
}

// LookupCall finds the call an answer with this id (as sent) answers.
func (t *callTable) LookupCall(raw json.RawMessage) (protocol.Call, bool) {
	k, ok := rawIDKey(raw)
	if !ok {
		return protocol.Call{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.calls[k]
	return e.call, ok
}

// rawIDKey is idKey of an id as sent: a string without escapes and a number are read in place,
// anything else is decoded.
func rawIDKey(raw json.RawMessage) (idKeyForm, bool) {
	raw = bytes.TrimSpace(raw)
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && bytes.IndexByte(raw[1:n-1], '\\') < 0 && bytes.IndexByte(raw[1:n-1], '"') < 0 {
		return idKeyForm{tag: idKeyString, s: string(raw[1 : n-1])}, true
	}
	if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return idKeyForm{tag: idKeyInt, i: i}, true
	}
	var id any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&id) != nil {
		return idKeyForm{}, false
	}
	return idKey(id)
}

// idKeyForm is the form ids are compared in, made without allocating for a string or an
// integer: equal strings, and numbers equal as numbers, have the same form. It stands for a
// text, "s:" and the string or "n:" and the number (an integer in plain decimal, another number
// as strconv.FormatFloat(f, 'g', -1, 64) writes it), and two forms are equal exactly when their
// texts are: a number whose text reads as an integer has the integer's form, any other keeps its
// text.
type idKeyForm struct {
	tag idKeyTag
	i   int64  // idKeyInt
	s   string // idKeyString: the string; idKeyNumber: the number's text
}

type idKeyTag uint8

const (
	idKeyString idKeyTag = iota + 1
	idKeyInt
	idKeyNumber
)

// idKey is the form ids are compared in: equal strings, and numbers equal as numbers, have
// the same key.
func idKey(id any) (idKeyForm, bool) {
	switch x := id.(type) {
	case string:
		return idKeyForm{tag: idKeyString, s: x}, true
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return idKeyForm{tag: idKeyInt, i: i}, true
		}
		f, err := x.Float64()
		if err != nil {
			return idKeyForm{}, false
		}
		var b [32]byte
		text := strconv.AppendFloat(b[:0], f, 'g', -1, 64)
		// The text of an integer-valued float may be plain decimal ("1000" for 1e3): it is
		// that integer's text, and so its key. "-0" reads as 0 but is not 0's text.
		var c [24]byte
		if i, err := strconv.ParseInt(string(text), 10, 64); err == nil && string(strconv.AppendInt(c[:0], i, 10)) == string(text) {
			return idKeyForm{tag: idKeyInt, i: i}, true
		}
		return idKeyForm{tag: idKeyNumber, s: string(text)}, true
	}
	return idKeyForm{}, false
}
