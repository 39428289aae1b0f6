// Package spiffeid builds, parses and validates the SPIFFE ids Meshwarden uses:
//
//	spiffe://<trust_domain>/ns/<namespace>/agent/<id>   an agent
//	spiffe://<trust_domain>/node/<node>                 a node's enforcer
//	spiffe://<trust_domain>                             the trust domain itself (the CA, audiences)
//
// The character rules are the SPIFFE ID specification's: a trust domain is lower-case letters,
// digits, '.', '-' and '_'; a path segment is letters, digits, '.', '-' and '_', never empty, "."
// or "..". Nothing is percent-decoded, so one id has exactly one spelling.
package spiffeid

import (
	"errors"
	"fmt"
	"strings"
)

// Scheme is the URI scheme of every SPIFFE id.
const Scheme = "spiffe"

const (
	prefix       = Scheme + "://"
	maxIDLength  = 2048 // SPIFFE ID spec: URIs longer than 2048 bytes are not SPIFFE ids
	maxTDLength  = 255
	nsSegment    = "ns"
	agentSegment = "agent"
	nodeSegment  = "node"
)

// ErrInvalid wraps every reason an id or one of its parts is refused.
var ErrInvalid = errors.New("invalid SPIFFE id")

// Kind says which of Meshwarden's shapes an id has.
type Kind uint8

const (
	KindOther       Kind = iota // a valid SPIFFE id of no Meshwarden shape
	KindTrustDomain             // spiffe://td
	KindAgent                   // spiffe://td/ns/<namespace>/agent/<id>
	KindNode                    // spiffe://td/node/<node>
)

// ID is a validated SPIFFE id. The zero ID is invalid; IDs are comparable and usable as map keys.
type ID struct {
	td   string
	path string // "" or "/seg/seg..."
}

// Parse validates s as a SPIFFE id.
func Parse(s string) (ID, error) {
	if len(s) > maxIDLength {
		return ID{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, maxIDLength)
	}
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return ID{}, fmt.Errorf("%w: %q does not start with %q", ErrInvalid, s, prefix)
	}
	td, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		td, path = rest[:i], rest[i:]
	}
	if err := validTrustDomain(td); err != nil {
		return ID{}, err
	}
	if path != "" {
		for _, seg := range strings.Split(path[1:], "/") {
			if err := ValidSegment(seg); err != nil {
				return ID{}, fmt.Errorf("path of %q: %w", s, err)
			}
		}
	}
	return ID{td: td, path: path}, nil
}

// MustParse is Parse for constants in tests and examples; it panics on an invalid id.
func MustParse(s string) ID {
	id, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return id
}

// AgentID returns spiffe://<td>/ns/<namespace>/agent/<agent>.
func AgentID(td TrustDomain, namespace, agent string) (ID, error) {
	if td.IsZero() {
		return ID{}, fmt.Errorf("%w: empty trust domain", ErrInvalid)
	}
	if err := ValidSegment(namespace); err != nil {
		return ID{}, fmt.Errorf("namespace: %w", err)
	}
	if err := ValidSegment(agent); err != nil {
		return ID{}, fmt.Errorf("agent id: %w", err)
	}
	return ID{td: td.name, path: "/" + nsSegment + "/" + namespace + "/" + agentSegment + "/" + agent}, nil
}

// NodeID returns spiffe://<td>/node/<node>.
func NodeID(td TrustDomain, node string) (ID, error) {
	if td.IsZero() {
		return ID{}, fmt.Errorf("%w: empty trust domain", ErrInvalid)
	}
	if err := ValidSegment(node); err != nil {
		return ID{}, fmt.Errorf("node name: %w", err)
	}
	return ID{td: td.name, path: "/" + nodeSegment + "/" + node}, nil
}

// String returns the id's one spelling, or "" for the zero ID.
func (id ID) String() string {
	if id.td == "" {
		return ""
	}
	return prefix + id.td + id.path
}

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id.td == "" }

// TrustDomain returns the id's trust domain.
func (id ID) TrustDomain() TrustDomain { return TrustDomain{name: id.td} }

// Path returns the id's path: "" or "/seg/...".
func (id ID) Path() string { return id.path }

// Kind returns the id's Meshwarden shape.
func (id ID) Kind() Kind {
	if id.td == "" {
		return KindOther
	}
	if id.path == "" {
		return KindTrustDomain
	}
	segs := strings.Split(id.path[1:], "/")
	switch {
	case len(segs) == 4 && segs[0] == nsSegment && segs[2] == agentSegment:
		return KindAgent
	case len(segs) == 2 && segs[0] == nodeSegment:
		return KindNode
	}
	return KindOther
}

// Agent returns the namespace and agent id of an agent id; ok is false for any other kind.
func (id ID) Agent() (namespace, agent string, ok bool) {
	if id.Kind() != KindAgent {
		return "", "", false
	}
	segs := strings.Split(id.path[1:], "/")
	return segs[1], segs[3], true
}

// Node returns the node name of a node id; ok is false for any other kind.
func (id ID) Node() (node string, ok bool) {
	if id.Kind() != KindNode {
		return "", false
	}
	return strings.TrimPrefix(id.path, "/"+nodeSegment+"/"), true
}

// MarshalText implements encoding.TextMarshaler.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with Parse's rules.
func (id *ID) UnmarshalText(b []byte) error {
	parsed, err := Parse(string(b))
	if err != nil {
		return err
	}
	*id = parsed
	return nil
}

// ValidSegment reports whether s may be one path segment of a SPIFFE id: a namespace, an agent
// id or a node name. Policy validation can call it to refuse names that cannot become ids.
func ValidSegment(s string) error {
	switch s {
	case "":
		return fmt.Errorf("%w: empty path segment", ErrInvalid)
	case ".", "..":
		return fmt.Errorf("%w: path segment %q", ErrInvalid, s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isSegmentChar(c) {
			return fmt.Errorf("%w: character %q in path segment %q (allowed: letters, digits, '.', '-', '_')", ErrInvalid, c, s)
		}
	}
	return nil
}

func isSegmentChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_'
}
