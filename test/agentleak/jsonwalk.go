package agentleak

import (
	"bytes"
	"encoding/json"
	"strings"
)

// doc is one decoded JSON message, ready for the presence checks of the evaluation.
type doc struct {
	root    any
	strings []string // every string value and object key, decoded
}

// parseDoc decodes a JSON message; a body that is not JSON is kept as one string.
func parseDoc(raw []byte) doc {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		v = string(raw)
	}
	d := doc{root: v}
	walk(v, func(key string, val any) {
		if key != "" {
			d.strings = append(d.strings, key)
		}
		if s, ok := val.(string); ok {
			d.strings = append(d.strings, s)
		}
	})
	return d
}

// walk calls fn for every value of v with the object key it sits under ("" for the root and
// array elements).
func walk(v any, fn func(key string, val any)) {
	var rec func(key string, v any)
	rec = func(key string, v any) {
		fn(key, v)
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				rec(k, c)
			}
		case []any:
			for _, c := range x {
				rec("", c)
			}
		}
	}
	rec("", v)
}

// leaves returns the set of the document's scalar values with the key they sit under, as
// "key=value" strings.
func (d doc) leaves() map[string]bool {
	out := map[string]bool{}
	walk(d.root, func(key string, v any) {
		switch v.(type) {
		case map[string]any, []any:
		default:
			out[key+"="+canonical(v)] = true
		}
	})
	return out
}

// canonical is the comparable form of a JSON value: its compact encoding, numbers as written.
func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// hasKeyed reports whether some object in d has key (case-insensitively) with a value whose
// canonical form is value.
func (d doc) hasKeyed(key, value string) bool {
	found := false
	walk(d.root, func(k string, v any) {
		if !found && k != "" && strings.EqualFold(k, key) && canonical(v) == value {
			found = true
		}
	})
	return found
}

// hasText reports whether some string or key of d contains s.
func (d doc) hasText(s string) bool {
	for _, x := range d.strings {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

// isRefusal reports whether d is a JSON-RPC error response.
func (d doc) isRPCError() bool {
	m, ok := d.root.(map[string]any)
	if !ok {
		return false
	}
	_, hasErr := m["error"]
	_, hasResult := m["result"]
	return hasErr && !hasResult
}
