package pep

import (
	"github.com/meshwarden/meshwarden/userspace/protocol"
	"github.com/meshwarden/meshwarden/userspace/scrub"
)

// Lazy is a JSON body handed to the engine parsed but not decoded: the engine reads it where it
// lies and decodes it (Decode) only when classification or scrubbing has something to report
// or change in it, so that a body with nothing to find costs no decoding. Used when Body is nil.
type Lazy struct {
	// Doc is the body as parsed.
	Doc protocol.Value
	// Swapped are values the caller put in place of some of Doc's strings and numbers (the
	// body is Doc with them): what the engine reads there instead of Doc's.
	Swapped []Swap
	// Decode returns the body decoded, with Swapped in place: what Body would have been.
	Decode func() any
}

// Swap is one value put in place of a string or number of a Lazy body.
type Swap struct {
	At    protocol.Value
	Value any
}

func (l *Lazy) set() bool { return l.Decode != nil && l.Doc.Exists() }

// over returns the value swapped in at v, if any.
func (l *Lazy) over(v protocol.Value) (any, bool) {
	for _, s := range l.Swapped {
		if s.At == v {
			return s.Value, true
		}
	}
	return nil, false
}

// resolve sets dec.Body from a Lazy body when classifying or scrubbing it would find or change
// anything; otherwise the body stays undecoded (dec.Body nil), which classification and
// scrubbing skip, and its payload is Raw: what they would have come to with it decoded.
func (e *Engine) resolve(d *domain, l *Lazy, metadataPaths, clientInfoPaths [][]string, dec *Decision) {
	if dec.Body != nil || !l.set() {
		return
	}
	over := l.over
	if len(l.Swapped) == 0 {
		over = nil
	}
	quiet := d.classifier.Quiet(l.Doc, over)
	if quiet && d.policy.MetadataMasking {
		for _, p := range orDefault(metadataPaths, scrub.MetadataPaths) {
			if !d.metadata.QuietAt(l.Doc, p...) {
				quiet = false
				break
			}
		}
		for _, p := range orDefault(clientInfoPaths, scrub.ClientInfoPaths) {
			if !quiet || !scrub.ClientInfoQuietAt(l.Doc, over, p...) {
				quiet = false
				break
			}
		}
	}
	if !quiet {
		dec.Body = l.Decode()
	}
}
