package classify

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
)

// maxEmbedded is how deep strings holding JSON are entered (a tool call's arguments inside a
// message inside a log line...); deeper ones are scanned as text.
const maxEmbedded = 2

// walker is one Scan or Redact over a value.
type walker struct {
	c        *Classifier
	redact   bool
	steps    []step
	findings []Finding
	spans    []Span // scratch for detectors
	embedded int
	inJSON   bool // findings get a path ($ and below); false for a plain text
	stepBuf  [16]step
	spanBuf  [8]Span
}

// newWalker returns a walker whose scratch slices start in its own arrays: one of c's,
// reused (its arrays are most of what a scan would allocate). Give it back with done.
func newWalker(c *Classifier, redact, inJSON bool) *walker {
	w, _ := c.walkers.Get().(*walker)
	if w == nil {
		w = new(walker)
	}
	*w = walker{c: c, redact: redact, inJSON: inJSON}
	w.steps, w.spans = w.stepBuf[:0], w.spanBuf[:0]
	return w
}

// done returns the walker's findings and gives it back to its classifier.
func (w *walker) done() []Finding {
	f, c := w.findings, w.c
	w.findings, w.c = nil, nil
	c.walkers.Put(w)
	return f
}

// value scans v and returns what replaces it, and whether that differs from v. Maps and
// slices are changed in place.
func (w *walker) value(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		w.object(x)
	case []any:
		for i, e := range x {
			w.steps = append(w.steps, step{kind: stepIndex, index: i})
			if nv, changed := w.value(e); changed {
				x[i] = nv
			}
			w.steps = w.steps[:len(w.steps)-1]
		}
	case string:
		if nv, changed := w.str(x); changed {
			return nv, true
		}
	case float64:
		if math.Abs(x) >= 1e12 && x == math.Trunc(x) && len(w.c.detectors) > 0 {
			return w.number(strconv.FormatFloat(x, 'f', -1, 64), v)
		}
	case json.Number:
		if len(x) >= minScannedNumber && len(w.c.detectors) > 0 {
			return w.number(string(x), v)
		}
	}
	return v, false
}

// minScannedNumber is the length of the shortest JSON number the detectors look at (the
// shortest payment card number): shorter numbers are counts, sizes and ids, and a bare 9- or
// 10-digit number is not taken for an SSN or a phone number. Strings are always scanned.
const minScannedNumber = 13

func (w *walker) object(m map[string]any) {
	var renamed []string // keys holding a match that redaction changes: renamed after the loop
	for k, e := range m {
		w.steps = append(w.steps, step{kind: stepKey, key: k})
		if len(w.c.detectors) > 0 && w.keyChanges(k) {
			renamed = append(renamed, k)
		}
		if action, ok := w.c.fields.lookup(k); ok {
			w.findings = append(w.findings, Finding{Type: TypeField, Key: k, Path: pathString(w.steps), Action: action})
			if changes(action) {
				if w.redact {
					m[k] = FieldPlaceholder(k)
				}
				w.steps = w.steps[:len(w.steps)-1]
				continue
			}
		}
		if nv, changed := w.value(e); changed {
			m[k] = nv
		}
		w.steps = w.steps[:len(w.steps)-1]
	}
	for _, k := range renamed {
		w.spans = w.c.set.detect(k, w.spans[:0])
		base := w.c.replaceSpans(k, w.spans)
		nk := base
		for i := 2; ; i++ { // two keys redacted alike both stay
			if _, taken := m[nk]; !taken {
				break
			}
			nk = base + "#" + strconv.Itoa(i)
		}
		m[nk] = m[k]
		delete(m, k)
	}
}

// keyChanges runs the detectors over an object key (a payment card or a canary can be a key as
// well as a value), records their findings at the member's path, and reports whether redaction
// must rename the key.
func (w *walker) keyChanges(k string) bool {
	w.spans = w.c.set.detect(k, w.spans[:0])
	if len(w.spans) == 0 {
		return false
	}
	return w.record(pathString(w.steps), true) && w.redact
}

// record adds a finding for each of w.spans, at path, and reports whether the action of one of
// them changes the text.
func (w *walker) record(path string, inKey bool) bool {
	changed := false
	for _, sp := range w.spans {
		a := w.c.actions[sp.Type]
		w.findings = append(w.findings, Finding{Type: sp.Type, Path: path, Offset: sp.Offset, Length: sp.Length, Action: a, InKey: inKey})
		changed = changed || changes(a)
	}
	return changed
}

// str scans a string value: as JSON when it holds a JSON object or array, else as text. It
// returns the replacement when there is one (nil, false otherwise: boxing s would allocate).
func (w *walker) str(s string) (any, bool) {
	if w.embedded < maxEmbedded && looksLikeJSON(s) {
		if inner, ok := decodeEmbedded(s); ok {
			return w.embeddedJSON(inner)
		}
	}
	if len(w.c.detectors) == 0 {
		return nil, false
	}
	if out, changed := w.text(s); changed {
		return out, true
	}
	return nil, false
}

// text runs the detectors over s, records their findings, and when redacting returns s with
// the matches replaced.
func (w *walker) text(s string) (string, bool) {
	w.spans = w.c.set.detect(s, w.spans[:0])
	if len(w.spans) == 0 {
		return s, false
	}
	path := ""
	if w.inJSON {
		path = pathString(w.steps)
	}
	changed := w.record(path, false)
	if !w.redact || !changed {
		return s, false
	}
	return w.c.replaceSpans(s, w.spans), true
}

// number scans the decimal form of a number; a match whose action changes values replaces the
// whole number with the placeholder of the first such match.
func (w *walker) number(digits string, v any) (any, bool) {
	before := len(w.findings)
	w.text(digits)
	for _, f := range w.findings[before:] {
		if changes(f.Action) && w.redact {
			return Placeholder(f.Type), true
		}
	}
	return v, false
}

// embeddedJSON scans the JSON document a string holds; when redacting changes it, the
// string is replaced by the document encoded again (keys sorted, no HTML escaping).
func (w *walker) embeddedJSON(inner any) (any, bool) {
	w.steps = append(w.steps, step{kind: stepEmbedded})
	w.embedded++
	before := len(w.findings)
	nv, _ := w.value(inner)
	w.embedded--
	w.steps = w.steps[:len(w.steps)-1]
	if !w.redact || !anyChanges(w.findings[before:]) {
		return nil, false
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(nv); err != nil {
		return Placeholder("json"), true // cannot happen for decoded JSON; never leak the original
	}
	return strings.TrimSuffix(b.String(), "\n"), true
}

func anyChanges(fs []Finding) bool {
	for _, f := range fs {
		if changes(f.Action) {
			return true
		}
	}
	return false
}

// looksLikeJSON reports whether s is worth decoding: it starts with { or [ and ends with } or ]
// (spaces around allowed).
func looksLikeJSON(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return false
	}
	first, last := s[0], s[len(s)-1]
	return first == '{' && last == '}' || first == '[' && last == ']'
}

// decodeEmbedded decodes a string holding exactly one JSON object or array.
func decodeEmbedded(s string) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false // more after the value
	}
	switch v.(type) {
	case map[string]any, []any:
		return v, true
	}
	return nil, false
}
