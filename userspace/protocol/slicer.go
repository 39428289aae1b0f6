package protocol

// Slicer copies the text of a value once and gives the strings, keys and number literals of the
// values at or below it as slices of that copy, so that reading many of them allocates once
// instead of once each (strings and keys with escapes are still decoded one by one).
type Slicer struct {
	d    *Document
	s    string
	base int32
}

// NewSlicer returns the Slicer of v and the values below it. When the parser already holds a
// copy of v's document as a string (it makes one for a body's long texts), the Slicer shares it
// and allocates nothing.
func NewSlicer(v Value) Slicer {
	if v.d == nil {
		return Slicer{}
	}
	if v.d.str != "" { // the parser copied the document already: share its copy
		return Slicer{d: v.d, s: v.d.str}
	}
	return Slicer{d: v.d, s: string(v.Raw()), base: v.node().start}
}

// inside reports whether v lies in the text sl copied.
func (sl Slicer) inside(v Value) bool {
	if v.d == nil || v.d != sl.d {
		return false
	}
	n := v.node()
	return n.start >= sl.base && int(n.end-sl.base) <= len(sl.s)
}

// Str returns what [Value.Str] does; v must be at or below the value sl was made from (others
// are read as Str reads them).
func (sl Slicer) Str(v Value) string {
	if v.Type() != TypeString {
		return ""
	}
	n := v.node()
	if n.esc || !sl.inside(v) {
		return v.Str()
	}
	return sl.s[n.start+1-sl.base : n.end-1-sl.base]
}

// Key returns what [Value.Key] does, for a value at or below the one sl was made from.
func (sl Slicer) Key(v Value) string {
	if v.d == nil {
		return ""
	}
	n := v.node()
	if n.keyStart < 0 || n.keyEsc || n.keyStart < sl.base || v.d != sl.d {
		return v.Key()
	}
	return sl.s[n.keyStart+1-sl.base : n.keyEnd-1-sl.base]
}

// Raw returns v's bytes as parsed, as a string, for a value at or below the one sl was made from.
func (sl Slicer) Raw(v Value) string {
	if v.d == nil {
		return ""
	}
	if !sl.inside(v) {
		return string(v.Raw())
	}
	n := v.node()
	return sl.s[n.start-sl.base : n.end-sl.base]
}
