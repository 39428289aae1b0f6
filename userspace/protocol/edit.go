package protocol

import (
	"fmt"
	"unicode/utf8"
)

// edit is a pending change to one value: a replacement (the JSON text raw followed by lit, one of
// them empty), or the removal of an array element or object member.
type edit struct {
	raw     []byte
	lit     string // a number literal as given: kept as it is, so that setting it copies nothing
	deleted bool
}

// editAt is an edit and the node it changes.
type editAt struct {
	n int32
	e edit
}

// maxFewEdits is how many edits a document keeps in a slice, searched in order, before it
// moves them to a map: most documents are edited in a few places (identifiers swapped, a
// field redacted), which a slice serves without hashing and with fewer allocations.
const maxFewEdits = 8

// Replace replaces v with the JSON text raw (which must be one valid JSON value). Values below v
// can no longer be edited.
func (v Value) Replace(raw []byte) error {
	if v.d == nil {
		return fmt.Errorf("replace: %w", ErrNoValue)
	}
	if _, err := ParseJSON(raw, Limits{AllowDuplicateKeys: true, MaxBodyBytes: v.d.lim.MaxBodyBytes}); err != nil {
		return fmt.Errorf("replace %s: replacement: %w", v.Path(), err)
	}
	if err := v.editable(); err != nil {
		return err
	}
	v.d.setEdit(v.n, edit{raw: append([]byte(nil), raw...)})
	return nil
}

// SetString replaces v with the JSON string s.
func (v Value) SetString(s string) error {
	if v.d == nil {
		return fmt.Errorf("set string: %w", ErrNoValue)
	}
	if err := v.editable(); err != nil {
		return err
	}
	v.d.setEdit(v.n, edit{raw: appendJSONString(nil, s)})
	return nil
}

// SetNumber replaces v with the JSON number lit (as [Value.Replace] with lit, which must be a
// number literal: see [ValidNumber]), without parsing the replacement as a document.
func (v Value) SetNumber(lit string) error {
	if v.d == nil {
		return fmt.Errorf("set number: %w", ErrNoValue)
	}
	if !ValidNumber(lit) {
		return fmt.Errorf("set number %s: %q is not a JSON number: %w", v.Path(), lit, ErrMalformed)
	}
	if len(lit) > v.d.lim.withDefaults().MaxBodyBytes {
		return v.Replace([]byte(lit)) // reports the error Replace gives
	}
	if err := v.editable(); err != nil {
		return err
	}
	v.d.setEdit(v.n, edit{lit: lit})
	return nil
}

// ValidNumber reports whether s is exactly one JSON number literal (RFC 8259), without
// surrounding space.
func ValidNumber(s string) bool {
	end, bad := scanNumber(s, 0)
	return bad == "" && end == len(s)
}

// Delete removes v from the array or object that holds it. The root cannot be deleted; neither
// can the root of embedded JSON (replace the string that holds it instead).
func (v Value) Delete() error {
	if v.d == nil {
		return fmt.Errorf("delete: %w", ErrNoValue)
	}
	if v.node().parent < 0 {
		return fmt.Errorf("delete %s: a root value cannot be deleted: %w", v.Path(), ErrNoValue)
	}
	if err := v.editable(); err != nil {
		return err
	}
	v.d.setEdit(v.n, edit{deleted: true})
	return nil
}

// editable refuses edits below a value that is already replaced or deleted.
func (v Value) editable() error {
	d, n := v.d, v.node().parent
	for d != nil {
		for n >= 0 {
			if _, ok := d.editOf(n); ok {
				return fmt.Errorf("edit %s: inside a value already replaced or deleted", v.Path())
			}
			n = d.nodes[n].parent
		}
		d, n = d.outer, d.outerNode
	}
	return nil
}

func (d *Document) setEdit(n int32, e edit) {
	d.markDirty(n)
	if d.edits == nil {
		for i := range d.few {
			if d.few[i].n == n {
				d.few[i].e = e
				return
			}
		}
		if len(d.few) < maxFewEdits {
			if d.few == nil {
				d.few = d.fewBuf[:0]
			}
			d.few = append(d.few, editAt{n: n, e: e})
			return
		}
		d.edits = make(map[int32]edit, 2*maxFewEdits)
		for _, x := range d.few {
			d.edits[x.n] = x.e
		}
		d.few = nil
	}
	d.edits[n] = e
}

// editOf returns the edit of node n, if it has one.
func (d *Document) editOf(n int32) (edit, bool) {
	if d.edits != nil {
		e, ok := d.edits[n]
		return e, ok
	}
	for i := range d.few {
		if d.few[i].n == n {
			return d.few[i].e, true
		}
	}
	return edit{}, false
}

// deleted reports whether node n is deleted (only a dirty node can be).
func (d *Document) deleted(n int32) bool {
	if !d.nodes[n].dirty {
		return false
	}
	e, _ := d.editOf(n)
	return e.deleted
}

func (d *Document) markDirty(n int32) {
	for d != nil {
		d.changed = true
		for ; n >= 0; n = d.nodes[n].parent {
			d.nodes[n].dirty = true
		}
		d, n = d.outer, d.outerNode
	}
}

// Replace replaces the value at p with the JSON text raw.
func (d *Document) Replace(p Path, raw []byte) error {
	v, err := d.At(p)
	if err != nil {
		return fmt.Errorf("replace: %w", err)
	}
	return v.Replace(raw)
}

// SetString replaces the value at p with the JSON string s.
func (d *Document) SetString(p Path, s string) error {
	v, err := d.At(p)
	if err != nil {
		return fmt.Errorf("set string: %w", err)
	}
	return v.SetString(s)
}

// Delete removes the value at p from its array or object.
func (d *Document) Delete(p Path) error {
	v, err := d.At(p)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	return v.Delete()
}

// Changed reports whether anything in the document was edited.
func (d *Document) Changed() bool { return d.changed }

// Bytes returns the document with its edits applied. Bytes that no edit touched are copied from
// the source as they were (whitespace, key order, number spelling); an array or object that lost
// an element is written without its inner whitespace; a string holding edited JSON is re-encoded.
// With no edits, Bytes returns the source itself.
func (d *Document) Bytes() []byte {
	if !d.Changed() {
		return d.src
	}
	return d.appendNode(make([]byte, 0, len(d.src)+64), 0)
}

func (d *Document) appendNode(b []byte, n int32) []byte {
	nd := &d.nodes[n]
	if !nd.dirty { // an edited node is dirty
		return append(b, d.src[nd.start:nd.end]...)
	}
	if e, ok := d.editOf(n); ok && !e.deleted {
		return append(append(b, e.raw...), e.lit...)
	}
	if inner, ok := d.embedded[n]; ok {
		return appendJSONString(b, string(inner.Bytes()))
	}
	kids := d.kids[nd.kidsOff : nd.kidsOff+nd.kidsLen]
	deletions := false
	for _, k := range kids {
		if d.deleted(k) {
			deletions = true
			break
		}
	}
	if !deletions {
		prev := nd.start
		for _, k := range kids {
			kn := &d.nodes[k]
			b = append(b, d.src[prev:kn.start]...)
			b = d.appendNode(b, k)
			prev = kn.end
		}
		return append(b, d.src[prev:nd.end]...)
	}
	open, closing := byte('['), byte(']')
	if nd.typ == TypeObject {
		open, closing = '{', '}'
	}
	b = append(b, open)
	first := true
	for _, k := range kids {
		if d.deleted(k) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		kn := &d.nodes[k]
		if kn.keyStart >= 0 {
			b = append(b, d.src[kn.keyStart:kn.start]...)
		}
		b = d.appendNode(b, k)
	}
	return append(b, closing)
}

// appendJSONString appends s as a JSON string: quotes, backslashes and control characters are
// escaped, invalid UTF-8 becomes U+FFFD, and nothing else is (no HTML escaping).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, c)
			}
		}
		i++
	}
	return append(b, '"')
}
