package policy

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// object is one YAML mapping whose keys were checked against the keys allowed there.
type object struct {
	path string                // where the mapping is, for messages ("domains[2]")
	node *yaml.Node            // the mapping itself
	keys map[string]*yaml.Node // key nodes, including keys whose value is null
	vals map[string]*yaml.Node // value nodes; a null value counts as absent
}

// object checks that n is a mapping holding only allowed keys, each once, and returns it.
// It reports every unknown or repeated key; ok is false only when n is not a mapping.
func (p *problems) object(n *yaml.Node, path string, allowed ...string) (object, bool) {
	o := object{path: path, node: n, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}}
	if n.Kind != yaml.MappingNode {
		p.node(n, "%s: expected a mapping, got %s", where(path), describe(n))
		return o, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.node(k, "%s: keys must be plain strings, got %s", where(path), describe(k))
			continue
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			p.node(k, "%s: merge keys (<<) are not supported; write the keys out", where(path))
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			p.node(k, "%s: unknown key %q; allowed keys: %s", where(path), k.Value, strings.Join(allowed, ", "))
			continue
		}
		if first, dup := o.keys[k.Value]; dup {
			p.node(k, "%s: key %q repeated (first at line %d)", where(path), k.Value, first.Line)
			continue
		}
		o.keys[k.Value] = k
		if !isNull(v) {
			o.vals[k.Value] = v
		}
	}
	return o, true
}

// field returns the path of one key of o, for messages.
func (o object) field(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

// require returns the value of key, reporting it at the mapping's line when it is missing or null.
func (p *problems) require(o object, key string) *yaml.Node {
	if v := o.vals[key]; v != nil {
		return v
	}
	if k := o.keys[key]; k != nil {
		p.node(k, "%s: a value is required", o.field(key))
		return nil
	}
	p.node(o.node, "%s: missing required key %q", where(o.path), key)
	return nil
}

// str returns the text of a scalar. Like yaml.v3 decoding into a string, any non-null scalar
// is accepted (so `version: 1.3` reads as "1.3").
func (p *problems) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.node(n, "%s: expected a string, got %s", path, describe(n))
		return "", false
	}
	return n.Value, true
}

// nonEmpty is str that also refuses "".
func (p *problems) nonEmpty(n *yaml.Node, path string) (string, bool) {
	s, ok := p.str(n, path)
	if ok && s == "" {
		p.node(n, "%s: must not be empty", path)
		return "", false
	}
	return s, ok
}

// oneOf returns a string that must be one of allowed; what names the kind of value for messages.
func (p *problems) oneOf(n *yaml.Node, path, what string, allowed []string) (string, bool) {
	s, ok := p.str(n, path)
	if !ok {
		return "", false
	}
	if !slices.Contains(allowed, s) {
		p.node(n, "%s: unknown %s %q; allowed: %s", path, what, s, strings.Join(allowed, ", "))
		return "", false
	}
	return s, true
}

// integer returns an !!int scalar within [lo, hi].
func (p *problems) integer(n *yaml.Node, path string, lo, hi int64) (int64, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.node(n, "%s: expected an integer, got %s", path, describe(n))
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil {
		p.node(n, "%s: invalid integer %q: %v", path, n.Value, err)
		return 0, false
	}
	if v < lo || v > hi {
		p.node(n, "%s: %d is out of range %d..%d", path, v, lo, hi)
		return 0, false
	}
	return v, true
}

// millis returns a positive count of milliseconds as a Duration.
func (p *problems) millis(n *yaml.Node, path string) (time.Duration, bool) {
	ms, ok := p.integer(n, path, 1, math.MaxInt64/int64(time.Millisecond))
	return time.Duration(ms) * time.Millisecond, ok
}

// boolean returns a !!bool scalar.
func (p *problems) boolean(n *yaml.Node, path string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		p.node(n, "%s: expected true or false, got %s", path, describe(n))
		return false, false
	}
	var v bool
	if err := n.Decode(&v); err != nil {
		p.node(n, "%s: %v", path, err)
		return false, false
	}
	return v, true
}

// list returns the items of a sequence.
func (p *problems) list(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	if n.Kind != yaml.SequenceNode {
		p.node(n, "%s: expected a list, got %s", path, describe(n))
		return nil, false
	}
	return n.Content, true
}

// isNull reports whether n is an explicit or implicit YAML null.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names the YAML type of n for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return fmt.Sprintf("an alias (*%s); aliases are not supported, write the value out", n.Value)
	case yaml.DocumentNode:
		return "a document"
	case yaml.ScalarNode:
		switch tag := n.ShortTag(); tag {
		case "!!null":
			return "null"
		case "!!str":
			return fmt.Sprintf("string %q", n.Value)
		case "!!int":
			return "integer " + n.Value
		case "!!float":
			return "number " + n.Value
		case "!!bool":
			return "boolean " + n.Value
		default:
			return fmt.Sprintf("%s %q", tag, n.Value)
		}
	}
	return "nothing"
}

// where is the path of a mapping for messages; the top level has no path.
func where(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

// index is the path of one item of a list.
func index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}
