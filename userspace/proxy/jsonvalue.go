package proxy

import (
	"strconv"

	"github.com/meshwarden/meshwarden/userspace/pep"
	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// toAny converts a parsed JSON value into what encoding/json decodes into with UseNumber
// (map[string]any, []any, string, json.Number, bool, nil): the form the classifier and the
// scrubber work on. The body is parsed once, by the protocol parser; this walks its tree
// without parsing again.
func toAny(v protocol.Value) any { return v.Any() }

// lazyTree is a parsed body decoded (toAny) on first use, with the identifiers swapped in it
// (swapIdentifiers) in place: the decision decodes a body only when it has something to find or
// change in it.
type lazyTree struct {
	root    protocol.Value
	swapped []pep.Swap
	tree    any
	built   bool
}

func newLazyTree(root protocol.Value, swapped []pep.Swap) *lazyTree {
	return &lazyTree{root: root, swapped: swapped}
}

// get returns the body decoded, decoding it the first time.
func (l *lazyTree) get() any {
	if !l.built {
		l.tree, l.built = toAny(l.root), true
		for _, s := range l.swapped {
			if _, set, ok := anyAt(l.tree, s.At.Path()); ok {
				set(s.Value)
			}
		}
	}
	return l.tree
}

// lazy is what the decision engine is given for the body.
func (l *lazyTree) lazy() pep.Lazy {
	return pep.Lazy{Doc: l.root, Swapped: l.swapped, Decode: l.get}
}

// anyAt returns the value at p in a decoded document (or a lazyTree, then decoded), and a
// function that replaces it. Paths into JSON embedded in strings are not followed.
func anyAt(root any, p protocol.Path) (v any, set func(any), ok bool) {
	if l, isLazy := root.(*lazyTree); isLazy {
		root = l.get()
	}
	if len(p) == 0 {
		return root, nil, false // the root itself is never an identifier
	}
	cur := root
	for i, st := range p {
		if st.Decode {
			return nil, nil, false
		}
		last := i == len(p)-1
		switch x := cur.(type) {
		case map[string]any:
			e, found := x[st.Token]
			if !found {
				return nil, nil, false
			}
			if last {
				key := st.Token
				return e, func(n any) { x[key] = n }, true
			}
			cur = e
		case []any:
			j, err := strconv.Atoi(st.Token)
			if err != nil || j < 0 || j >= len(x) {
				return nil, nil, false
			}
			if last {
				return x[j], func(n any) { x[j] = n }, true
			}
			cur = x[j]
		default:
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// pathSteps converts a protocol path to the steps of scrub.Walk; ok is false for a path into
// embedded JSON.
func pathSteps(p protocol.Path) ([]string, bool) {
	out := make([]string, 0, len(p))
	for _, st := range p {
		if st.Decode {
			return nil, false
		}
		out = append(out, st.Token)
	}
	return out, true
}
