// Package scrub removes what would let a receiver map the mesh or recognise a sender: headers
// that reveal topology, tracing or client software (Headers), keys of JSON metadata objects
// (Metadata, ClientInfoAt), and identifiers a protocol needs, which it replaces by per-flow
// pseudonyms and maps back on the response (Pseudonymizer).
//
// Every operation returns a Summary naming what it removed, normalised or pseudonymised,
// never the values, so that it can go into an audit record as it is.
package scrub

import "slices"

// Summary names what a scrub changed: header names, JSON paths of keys, or identifier kinds.
// It never holds a value.
type Summary struct {
	Removed       []string // headers and JSON keys removed
	Normalised    []string // headers and JSON keys replaced by a generic value (User-Agent, Date)
	Pseudonymised []string // identifier kinds replaced by pseudonyms (see Kind)
	Revealed      []string // identifier kinds mapped back from pseudonyms
}

// Add appends o's names to s.
func (s *Summary) Add(o Summary) {
	s.Removed = append(s.Removed, o.Removed...)
	s.Normalised = append(s.Normalised, o.Normalised...)
	s.Pseudonymised = append(s.Pseudonymised, o.Pseudonymised...)
	s.Revealed = append(s.Revealed, o.Revealed...)
}

// Empty reports whether nothing was changed.
func (s Summary) Empty() bool {
	return len(s.Removed)+len(s.Normalised)+len(s.Pseudonymised)+len(s.Revealed) == 0
}

// sorted returns names sorted and without repeats, for summaries that do not depend on map
// iteration order.
func sorted(names []string) []string {
	slices.Sort(names)
	return slices.Compact(names)
}
