package scrub

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"net/http"
	"strconv"
	"sync"

	"github.com/google/uuid"
)

// Kind is the kind of identifier a pseudonym stands for. Kinds keep pseudonyms apart: the
// same value gets different pseudonyms as a JSON-RPC id and as a task id. Summaries name
// pseudonymised identifiers by their Kind.
type Kind string

// Identifier kinds.
const (
	KindJSONRPCID   Kind = "jsonrpc_id"     // JSON-RPC id: string or number
	KindMCPSession  Kind = "Mcp-Session-Id" // MCP Streamable HTTP session header
	KindA2ATask     Kind = "taskId"
	KindA2AContext  Kind = "contextId"
	KindA2AMessage  Kind = "messageId"
	KindMCPProgress Kind = "progressToken" // MCP progress token (params._meta.progressToken, notifications/progress)
)

// DefaultMaxPseudonyms is a Pseudonymizer's table size when NewPseudonymizer is given 0.
const DefaultMaxPseudonyms = 1 << 16

// Errors of Pseudonym.
var (
	// ErrFull: the flow holds as many pseudonyms as it may; Forget those no longer needed.
	ErrFull = errors.New("pseudonym table full")
	// ErrCollision: two identifiers of one flow got the same pseudonym (about one chance in
	// 2^53 per pair for numbers, 2^120 for strings). The exchange must be refused.
	ErrCollision = errors.New("pseudonym collision")
	// ErrUnsupportedID: the identifier is not a string or a number (float64, json.Number, int,
	// int64 or uint64: what JSON decoders produce).
	ErrUnsupportedID = errors.New("identifier is neither a string nor a number")
)

// Pseudonymizer maps the identifiers of one flow to pseudonyms and back. Pseudonyms are
// HMAC-SHA256 of the identifier under a random key of the flow, so they are stable within the
// flow and unrelated across flows; the table kept for Reveal is bounded. Safe for concurrent
// use.
//
// The caller decides what a flow is, and it must live as long as the identifiers: an MCP
// session spans several connections, so a Pseudonymizer per (source agent, destination) or
// per session, not per TCP connection. Direction follows who made the identifier up: one the
// client made (a JSON-RPC id, an A2A messageId) is hidden on the request and revealed on the
// response; one the server made (Mcp-Session-Id, an A2A taskId) is hidden on the response, so
// the client only ever holds the pseudonym, and revealed on the next request.
//
// A pseudonym keeps the identifier's JSON type: a number becomes an integer below 2^53 (exact
// in every JSON implementation) of the same Go type; a string becomes "mw-" and 24 base32
// characters, or a random-looking version 4 UUID when the identifier is a UUID.
type Pseudonymizer struct {
	key   [32]byte
	limit int

	mu      sync.Mutex
	reveals map[tableKey]entry // pseudonym -> identifier

	macs sync.Pool // of *macState: HMAC-SHA256 under key, reused (keying one costs two blocks)
}

// tableKey is a pseudonym in the form identifiers are compared in, with its kind.
type tableKey struct {
	kind Kind
	form idForm
}

type entry struct {
	original any
	form     idForm // the original's
}

// NewPseudonymizer returns a Pseudonymizer with a fresh random key that holds at most
// maxEntries pseudonyms (DefaultMaxPseudonyms when 0 or less).
func NewPseudonymizer(maxEntries int) (*Pseudonymizer, error) {
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("pseudonymizer key: %w", err)
	}
	return newPseudonymizer(key, maxEntries), nil
}

func newPseudonymizer(key [32]byte, maxEntries int) *Pseudonymizer {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxPseudonyms
	}
	return &Pseudonymizer{key: key, limit: maxEntries, reveals: map[tableKey]entry{}}
}

// Pseudonym returns the pseudonym of an identifier and remembers it for Reveal. A JSON null
// (nil) is returned as it is: it identifies nothing.
func (p *Pseudonymizer) Pseudonym(kind Kind, id any) (any, error) {
	if id == nil {
		return nil, nil
	}
	form, ok := formOf(id)
	if !ok {
		return nil, fmt.Errorf("pseudonym for %s of type %T: %w", kind, id, ErrUnsupportedID)
	}
	pseudo, pform := disguise(id, p.mac(kind, form))
	k := tableKey{kind: kind, form: pform}

	p.mu.Lock()
	e, seen := p.reveals[k]
	full := !seen && len(p.reveals) >= p.limit
	if !seen && !full {
		p.reveals[k] = entry{original: id, form: form}
	}
	p.mu.Unlock()
	switch {
	case seen && e.form != form:
		return nil, fmt.Errorf("pseudonym for %s: %w", kind, ErrCollision)
	case full:
		return nil, fmt.Errorf("pseudonym for %s: %w (%d entries)", kind, ErrFull, p.limit)
	}
	return pseudo, nil
}

// Reveal returns the identifier a pseudonym stands for, exactly as it was given to Pseudonym
// (same Go type and value). ok is false for a value that is not a pseudonym of this flow.
func (p *Pseudonymizer) Reveal(kind Kind, pseudonym any) (any, bool) {
	form, ok := formOf(pseudonym)
	if !ok {
		return nil, false
	}
	k := tableKey{kind: kind, form: form}
	p.mu.Lock()
	e, ok := p.reveals[k]
	p.mu.Unlock()
	return e.original, ok
}

// Forget drops a pseudonym from the table, once its exchange is over.
func (p *Pseudonymizer) Forget(kind Kind, pseudonym any) {
	form, ok := formOf(pseudonym)
	if !ok {
		return
	}
	k := tableKey{kind: kind, form: form}
	p.mu.Lock()
	delete(p.reveals, k)
	p.mu.Unlock()
}

// Len returns the number of pseudonyms held.
func (p *Pseudonymizer) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.reveals)
}

// macState is an HMAC-SHA256 under a Pseudonymizer's key with the buffers one MAC needs, reused
// together (keying an HMAC costs two blocks; the buffers would escape through hash.Hash).
type macState struct {
	h   hash.Hash
	msg []byte
	sum [sha256.Size]byte
}

// mac is HMAC-SHA256(key, kind || 0 || canonical text of the identifier).
func (p *Pseudonymizer) mac(kind Kind, form idForm) [sha256.Size]byte {
	st, _ := p.macs.Get().(*macState)
	if st == nil {
		st = &macState{h: hmac.New(sha256.New, p.key[:])}
	} else {
		st.h.Reset()
	}
	st.msg = form.appendCanonical(append(append(st.msg[:0], kind...), 0))
	st.h.Write(st.msg)
	out := [sha256.Size]byte(st.h.Sum(st.sum[:0]))
	if cap(st.msg) <= 1024 {
		p.macs.Put(st)
	}
	return out
}

// idForm is an identifier in the form identifiers are compared in, made without allocating: a
// string, or a number (integers as themselves, so that 7, 7.0, json.Number("7") and
// json.Number("7e0") are one identifier, as they are in JSON). Two identifiers have equal forms
// exactly when their canonical texts (appendCanonical) are equal.
type idForm struct {
	tag  formTag
	bits uint64 // formInt: the int64; formUint: the uint64 (above MaxInt64); formFloat: the float64
	s    string // formString: the string
}

type formTag uint8

const (
	formString formTag = iota + 1
	formInt            // an integer that fits an int64
	formUint           // an integer above MaxInt64, given as a uint64
	formFloat          // any other number: not an integer, beyond ±2^63, infinite or NaN
)

// formOf returns the form of an identifier: a string, or a number of one of the types JSON
// decoders produce.
func formOf(v any) (idForm, bool) {
	switch x := v.(type) {
	case string:
		return idForm{tag: formString, s: x}, true
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return intForm(i), true
		}
		f, err := x.Float64()
		if err != nil {
			return idForm{}, false
		}
		return floatForm(f), true
	case float64:
		return floatForm(x), true
	case int:
		return intForm(int64(x)), true
	case int64:
		return intForm(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return intForm(int64(x)), true
		}
		return idForm{tag: formUint, bits: x}, true
	}
	return idForm{}, false
}

func intForm(i int64) idForm { return idForm{tag: formInt, bits: uint64(i)} }

// floatForm is the form of a float: an integer when it is one that fits an int64 (-0 is 0),
// else the float itself. Its shortest text is the same for equal floats and differs for others,
// and it is never plain decimal (it holds a '.', an exponent, "Inf" or "NaN"), so it is never
// an integer's text; all NaNs have one text, so one form.
func floatForm(f float64) idForm {
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return intForm(int64(f))
	}
	if f != f {
		f = math.NaN()
	}
	return idForm{tag: formFloat, bits: math.Float64bits(f)}
}

// appendCanonical appends the canonical text of the identifier, what its MAC is computed over:
// "s:" and the string, or "n:" and the number (integers in plain decimal, others in their
// shortest form).
func (f idForm) appendCanonical(b []byte) []byte {
	switch f.tag {
	case formString:
		return append(append(b, "s:"...), f.s...)
	case formInt:
		return strconv.AppendInt(append(b, "n:"...), int64(f.bits), 10)
	case formUint:
		return strconv.AppendUint(append(b, "n:"...), f.bits, 10)
	case formFloat:
		return strconv.AppendFloat(append(b, "n:"...), math.Float64frombits(f.bits), 'g', -1, 64)
	}
	return b
}

// maxSafeInteger is 2^53-1, the largest integer every JSON implementation reads exactly.
const maxSafeInteger = 1<<53 - 1

// disguise returns the pseudonym made from mac, of the same type as id, and its form.
func disguise(id any, mac [sha256.Size]byte) (any, idForm) {
	n := binary.BigEndian.Uint64(mac[:8]) & maxSafeInteger
	if n == 0 {
		n = 1
	}
	if luhnValid(n) {
		// A pseudonym must not look like the data the enforcer looks for: a 13- to 16-digit
		// number that passes the Luhn check is a payment card to the classifier, which would
		// refuse an exchange for an id the enforcer made up. Changing its lowest bit changes
		// its last digit by one, which no Luhn-valid number survives.
		n ^= 1
	}
	form := intForm(int64(n))
	switch x := id.(type) {
	case string:
		var s string
		if isUUID(x) {
			s = uuidFrom(mac)
		} else {
			s = stringPseudonym(mac)
		}
		return s, idForm{tag: formString, s: s}
	case json.Number:
		return json.Number(strconv.FormatUint(n, 10)), form
	case int:
		return int(n), form
	case int64:
		return int64(n), form
	case uint64:
		return n, form
	}
	return float64(n), form
}

// lowerBase32 is base32.StdEncoding with its letters in lower case. Read only.
var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567")

// stringPseudonym is "mw-" and bytes 8 to 22 of mac in lower-case base32 (15 bytes, so 24
// characters and no padding).
func stringPseudonym(mac [sha256.Size]byte) string {
	var b [3 + 24]byte
	copy(b[:], "mw-")
	lowerBase32.Encode(b[3:], mac[8:23])
	return string(b[:])
}

// isUUID reports whether s is a UUID in its canonical 8-4-4-4-12 hexadecimal form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// uuidFrom formats 16 bytes of mac as a version 4 (random) UUID.
func uuidFrom(mac [sha256.Size]byte) string {
	var b [16]byte
	copy(b[:], mac[16:32])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return uuid.UUID(b).String()
}

// HideField replaces obj[key], when present and not null, by its pseudonym of the given kind.
func (p *Pseudonymizer) HideField(obj map[string]any, key string, kind Kind) (Summary, error) {
	v, ok := obj[key]
	if !ok || v == nil {
		return Summary{}, nil
	}
	pseudo, err := p.Pseudonym(kind, v)
	if err != nil {
		return Summary{}, err
	}
	obj[key] = pseudo
	return Summary{Pseudonymised: []string{string(kind)}}, nil
}

// RevealField replaces obj[key], when it is a pseudonym of the given kind, by the identifier
// it stands for. A value that is not a pseudonym of this flow is left as it is.
func (p *Pseudonymizer) RevealField(obj map[string]any, key string, kind Kind) Summary {
	v, ok := obj[key]
	if !ok {
		return Summary{}
	}
	orig, ok := p.Reveal(kind, v)
	if !ok {
		return Summary{}
	}
	obj[key] = orig
	return Summary{Revealed: []string{string(kind)}}
}

// HideHeader replaces every value of header name by its pseudonym of the given kind.
func (p *Pseudonymizer) HideHeader(h http.Header, name string, kind Kind) (Summary, error) {
	values := h.Values(name)
	if len(values) == 0 {
		return Summary{}, nil
	}
	out := make([]string, len(values))
	for i, v := range values {
		pseudo, err := p.Pseudonym(kind, v)
		if err != nil {
			return Summary{}, err
		}
		out[i] = pseudo.(string)
	}
	h[http.CanonicalHeaderKey(name)] = out
	return Summary{Pseudonymised: []string{string(kind)}}, nil
}

// RevealHeader replaces every value of header name that is a pseudonym of the given kind by
// the identifier it stands for.
func (p *Pseudonymizer) RevealHeader(h http.Header, name string, kind Kind) Summary {
	values := h.Values(name)
	revealed := false
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = v
		if orig, ok := p.Reveal(kind, v); ok {
			if s, isString := orig.(string); isString {
				out[i], revealed = s, true
			}
		}
	}
	if !revealed {
		return Summary{}
	}
	h[http.CanonicalHeaderKey(name)] = out
	return Summary{Revealed: []string{string(kind)}}
}

// luhnPairSums holds what two decimal digits ab (n%100 for a and b) add to a Luhn sum when
// counted from the right b is in an even place (taken as it is) and a in an odd one (doubled,
// less 9 when above 9). Read only.
var luhnPairSums = func() (t [100]uint8) {
	for ab := range t {
		a := 2 * (ab / 10)
		if a > 9 {
			a -= 9
		}
		t[ab] = uint8(ab%10 + a)
	}
	return t
}()

// luhnValid reports whether n's decimal digits pass the Luhn check: two digits at a time.
func luhnValid(n uint64) bool {
	sum := 0
	for ; n > 0; n /= 100 {
		sum += int(luhnPairSums[n%100])
	}
	return sum%10 == 0
}
