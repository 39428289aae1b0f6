package scrub

import (
	"strconv"
	"strings"
)

// DesignKeys are the keys the original design's sanitizeMetadata removes from metadata:
// they reveal the network topology or the sender.
func DesignKeys() []string {
	return []string{"sender_ip", "routing_path", "internal_id", "timestamp"}
}

// TraceKeys are W3C trace context keys that MCP `_meta` and A2A `metadata` objects carry
// when clients propagate traces through the message instead of headers.
func TraceKeys() []string {
	return []string{"traceparent", "tracestate", "baggage"}
}

// Metadata removes keys from JSON metadata objects (A2A `metadata`, MCP `_meta`): DesignKeys,
// TraceKeys and a domain's masked_keys, all compared case-insensitively. Only the object's own
// keys are removed, not keys of objects nested in it, which belong to the application. A
// Metadata is immutable and safe for concurrent use.
type Metadata struct {
	keys map[string]bool // lowercase
}

// NewMetadata returns the Metadata scrubber for a domain's masked_keys.
func NewMetadata(masked []string) *Metadata {
	m := &Metadata{keys: map[string]bool{}}
	for _, groups := range [][]string{DesignKeys(), TraceKeys(), masked} {
		for _, k := range groups {
			m.keys[strings.ToLower(k)] = true
		}
	}
	return m
}

// Removes reports whether the scrubber removes a key.
func (m *Metadata) Removes(key string) bool {
	return m.keys[strings.ToLower(key)]
}

// Clean removes the keys from one metadata object in place and returns the names of those it
// removed, sorted.
func (m *Metadata) Clean(obj map[string]any) []string {
	var removed []string
	for k := range obj {
		if m.Removes(k) {
			delete(obj, k)
			removed = append(removed, k)
		}
	}
	return sorted(removed)
}

// CleanAt cleans the metadata objects found at path in a decoded JSON document (see Walk for
// the path syntax) and returns the JSON paths of the keys it removed. Paths that lead nowhere
// or to something other than an object are skipped.
func (m *Metadata) CleanAt(root any, path ...string) Summary {
	var s Summary
	Walk(root, path, func(obj map[string]any, at string) {
		for _, k := range m.Clean(obj) {
			s.Removed = append(s.Removed, member(at, k))
		}
	})
	s.Removed = sorted(s.Removed)
	return s
}

// ClientInfoVersion is what ClientInfoAt sets an MCP clientInfo's version to. The MCP schema
// requires the key, so it is normalised rather than removed.
const ClientInfoVersion = "0"

// ClientInfoAt reduces the MCP Implementation objects at path (params.clientInfo of
// initialize, result.serverInfo of its response) to their name: version becomes
// ClientInfoVersion and every other detail (title, websiteUrl, icons, description, ...) is
// removed.
func ClientInfoAt(root any, path ...string) Summary {
	var s Summary
	Walk(root, path, func(obj map[string]any, at string) {
		for k, v := range obj {
			switch k {
			case "name":
			case "version":
				if v != ClientInfoVersion {
					obj[k] = ClientInfoVersion
					s.Normalised = append(s.Normalised, member(at, k))
				}
			default:
				delete(obj, k)
				s.Removed = append(s.Removed, member(at, k))
			}
		}
	})
	s.Removed, s.Normalised = sorted(s.Removed), sorted(s.Normalised)
	return s
}

// Walk calls fn with every JSON object found at path in a decoded JSON document, and the
// object's JSON path ($.params.message.metadata). A path step is an object key, a decimal
// index into an array, or * for every element of an array or every member of an object:
// ("params", "message", "parts", "*", "metadata") reaches the metadata of every A2A part.
// A step that matches nothing ends that branch quietly.
func Walk(root any, path []string, fn func(obj map[string]any, at string)) {
	walk(root, path, "$", fn)
}

func walk(v any, path []string, at string, fn func(map[string]any, string)) {
	if len(path) == 0 {
		if obj, ok := v.(map[string]any); ok {
			fn(obj, at)
		}
		return
	}
	step, rest := path[0], path[1:]
	switch x := v.(type) {
	case map[string]any:
		if step == "*" {
			for k, e := range x {
				walk(e, rest, member(at, k), fn)
			}
			return
		}
		if e, ok := x[step]; ok {
			walk(e, rest, member(at, step), fn)
		}
	case []any:
		if step == "*" {
			for i, e := range x {
				walk(e, rest, element(at, i), fn)
			}
			return
		}
		if i, err := strconv.Atoi(step); err == nil && i >= 0 && i < len(x) {
			walk(x[i], rest, element(at, i), fn)
		}
	}
}

// member and element extend a JSON path.
func member(at, key string) string {
	if isIdentifier(key) {
		return at + "." + key
	}
	return at + "[" + strconv.Quote(key) + "]"
}

func element(at string, i int) string {
	return at + "[" + strconv.Itoa(i) + "]"
}

// isIdentifier reports whether a key can follow a dot in a path: letters, digits, _ and -, not
// starting with a digit or -.
func isIdentifier(k string) bool {
	if k == "" || ('0' <= k[0] && k[0] <= '9') || k[0] == '-' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
