package classify

import (
	"encoding/json"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// Quiet reports whether Scan (and so Redact) would find nothing in v decoded (v.Any()), with
// the values over gives put in place of some of v's strings and numbers (over may be nil). It
// reads v where it lies, without decoding it, so that a body with nothing to find need never be
// decoded. It errs on the safe side: it may report false where Scan finds nothing (it does not
// look into strings holding JSON, and looks at every member of an object with duplicate keys),
// never true where Scan finds something.
func (c *Classifier) Quiet(v protocol.Value, over func(protocol.Value) (any, bool)) bool {
	if c.Empty() || !v.Exists() {
		return true
	}
	w := newWalker(c, false, true)
	defer w.done()
	q := quietWalk{w: w, sl: protocol.NewSlicer(v)}
	return q.value(v, over)
}

type quietWalk struct {
	w  *walker
	sl protocol.Slicer
}

// value reports whether v is quiet. over is a parameter rather than a field of q so that it
// does not escape: a caller's closure then needs no allocation.
func (q *quietWalk) value(v protocol.Value, over func(protocol.Value) (any, bool)) bool {
	if over != nil {
		if x, ok := over(v); ok {
			return q.leaf(x)
		}
	}
	switch v.Type() {
	case protocol.TypeObject:
		for i := range v.Len() {
			m := v.Index(i)
			if !q.key(q.sl.Key(m)) || !q.value(m, over) {
				return false
			}
		}
	case protocol.TypeArray:
		for i := range v.Len() {
			if !q.value(v.Index(i), over) {
				return false
			}
		}
	case protocol.TypeString:
		return q.str(q.sl.Str(v))
	case protocol.TypeNumber:
		return q.number(q.sl.Raw(v))
	}
	return true
}

// leaf is value for a decoded string or number (what walker.value does with it).
func (q *quietWalk) leaf(x any) bool {
	switch x := x.(type) {
	case nil, bool:
		return true
	case string:
		return q.str(x)
	case json.Number:
		return q.number(string(x))
	}
	return false // not what a decoded body holds: let the walker decide
}

// key is walker.object's look at a member name: a sensitive field, or a detector's match.
func (q *quietWalk) key(k string) bool {
	if _, ok := q.w.c.fields.lookup(k); ok {
		return false
	}
	return !q.found(k)
}

// str is walker.str: a string that may hold JSON is left to the walker.
func (q *quietWalk) str(s string) bool {
	if looksLikeJSON(s) {
		return false
	}
	return !q.found(s)
}

// number is walker.value for a json.Number.
func (q *quietWalk) number(lit string) bool {
	return len(lit) < minScannedNumber || !q.found(lit)
}

// found reports whether a detector matches in s.
func (q *quietWalk) found(s string) bool {
	if len(q.w.c.detectors) == 0 {
		return false
	}
	q.w.spans = q.w.c.set.detect(s, q.w.spans[:0])
	return len(q.w.spans) > 0
}
