package protocol

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// ValueType is the JSON type of a [Value].
type ValueType uint8

// JSON value types.
const (
	TypeInvalid ValueType = iota // the zero Value: no value
	TypeNull
	TypeBool
	TypeNumber
	TypeString
	TypeArray
	TypeObject
)

var valueTypeNames = [...]string{"invalid", "null", "bool", "number", "string", "array", "object"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return "ValueType(" + strconv.Itoa(int(t)) + ")"
}

// node is one parsed JSON value; offsets index the document's source.
type node struct {
	typ      ValueType
	esc      bool  // string value with escapes or invalid UTF-8: Str must decode it
	keyEsc   bool  // same, for the member key
	dirty    bool  // an edit at or below this value (takes the padding after the flags)
	start    int32 // first byte of the value
	end      int32 // one past its last byte
	keyStart int32 // opening quote of the member key; -1 when the value is not an object member
	keyEnd   int32 // one past the closing quote of the key
	parent   int32 // -1 for the root
	pos      int32 // index among the parent's children
	kidsOff  int32 // children: doc.kids[kidsOff : kidsOff+kidsLen]
	kidsLen  int32
}

// Document is a parsed JSON text that remembers where each value lies in the source bytes, so that
// values can be visited with their paths ([Document.Walk]) and edited in place ([Value.Replace],
// [Value.Delete]), and the text re-serialised with everything not edited kept byte for byte
// ([Document.Bytes]). Paths and values always refer to the text as parsed; edits show only in
// Bytes. A Document is not safe for concurrent edits.
type Document struct {
	src   []byte
	nodes []node
	kids  []int32
	lim   Limits

	// str is src as a string, once the parser has made it for a long text of a message (see
	// builder.text); Slicers of the document share it. It is set only while the body is
	// being parsed.
	str string

	outer     *Document // set for JSON embedded in a string of outer
	outerNode int32
	embedded  map[int32]*Document // string nodes whose text was parsed as JSON

	few     []editAt // the edits, while there are at most maxFewEdits; starts in fewBuf
	fewBuf  [2]editAt
	edits   map[int32]edit // the edits, once there are more (few is then nil)
	changed bool           // some node is dirty
}

// ParseJSON parses one JSON text strictly (RFC 8259; keys are compared exactly; duplicate keys are
// malformed unless lim.AllowDuplicateKeys). The Document keeps src: do not modify it afterwards.
func ParseJSON(src []byte, lim Limits) (*Document, error) {
	return parseJSON(src, lim.withDefaults(), nil)
}

// docAlloc is a Document with room for the nodes and kids of a small one, so that a body
// parser makes the document of a small body (at most len(nodes) values) in the body's
// allocation (see bodyAlloc). A larger document leaves the room unused, or outgrows it.
type docAlloc struct {
	doc   Document
	nodes [12]node
	kids  [2 * 12]int32 // kids (at most 11 while the nodes fit), then the parser's stack
}

// parseJSON is ParseJSON with lim's defaults filled in already. The document is made in into
// (unused: zero) when into is not nil, else allocated. When parsing fails, into holds partial
// results: drop it.
func parseJSON(src []byte, lim Limits, into *docAlloc) (*Document, error) {
	if len(src) > lim.MaxBodyBytes {
		return nil, fmt.Errorf("json: %d bytes, limit %d: %w", len(src), lim.MaxBodyBytes, ErrTooLarge)
	}
	p := jsonParser{src: src, lim: lim}
	switch n := estimateValues(src, lim.MaxValues); {
	case into != nil && n <= 2*len(into.nodes):
		// Likely small enough for the room: the estimate counts the commas between object
		// members too, and so runs to about twice the values of a document of objects. Kids
		// and stack share the room as below; a document that outgrows it grows its slices.
		r := len(into.nodes)
		p.nodes = into.nodes[:0:r]
		p.kids, p.stack = into.kids[:0:r], into.kids[r:r]
	case n > 1:
		p.nodes = make([]node, 0, n)
		// kids and the parser's stack share one allocation: the stack takes the tail,
		// which kids (capped) never grows into.
		ks := n - 1
		buf := make([]int32, ks+min(n, 64))
		p.kids, p.stack = buf[:0:ks], buf[ks:ks]
	}
	p.skipSpace()
	if _, err := p.value(-1, 0, -1, -1, false, 0); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i != len(src) {
		return nil, &SyntaxError{Offset: p.i, Msg: "data after the JSON value"}
	}
	var d *Document
	if into != nil {
		d = &into.doc
	} else {
		d = new(Document)
	}
	// d is a zero Document (into is unused): set the fields a parse fills, rather than
	// write the whole struct.
	d.src, d.nodes, d.kids, d.lim = src, p.nodes, p.kids, lim
	return d, nil
}

// Source returns the bytes the document was parsed from.
func (d *Document) Source() []byte { return d.src }

// Root returns the top-level value.
func (d *Document) Root() Value { return Value{d: d, n: 0} }

type jsonParser struct {
	src   []byte
	i     int
	nodes []node
	kids  []int32
	stack []int32
	lim   Limits
}

// estimateValues bounds the number of values in src from above, so that the parser allocates
// its slices once: every value but the root follows a ':' (object member), a ',' (later array
// element) or a '[' (first one); those inside strings only add to the count. The estimate is
// capped (at 1,024 values): bytes inside strings must not make a small body allocate much,
// and large documents grow their slices as they go.
func estimateValues(src []byte, maxValues int) int {
	n := 1 + bytes.Count(src, []byte{':'}) + bytes.Count(src, []byte{','}) + bytes.Count(src, []byte{'['})
	return min(n, len(src)/2+1, maxValues, 1024)
}

func (p *jsonParser) skipSpace() {
	for p.i < len(p.src) {
		switch p.src[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) errf(format string, args ...any) error {
	return &SyntaxError{Offset: p.i, Msg: fmt.Sprintf(format, args...)}
}

// value parses the value at p.i (whitespace already skipped) and returns its node index.
func (p *jsonParser) value(parent, pos, keyStart, keyEnd int32, keyEsc bool, depth int) (int32, error) {
	if len(p.nodes) >= p.lim.MaxValues {
		return 0, fmt.Errorf("json: more than %d values: %w", p.lim.MaxValues, ErrTooLarge)
	}
	if p.i >= len(p.src) {
		return 0, p.errf("unexpected end of input")
	}
	idx := int32(len(p.nodes))
	p.nodes = append(p.nodes, node{start: int32(p.i), keyStart: keyStart, keyEnd: keyEnd, keyEsc: keyEsc, parent: parent, pos: pos})
	var typ ValueType
	switch c := p.src[p.i]; {
	case c == '{':
		typ = TypeObject
		if err := p.object(idx, depth+1); err != nil {
			return 0, err
		}
	case c == '[':
		typ = TypeArray
		if err := p.array(idx, depth+1); err != nil {
			return 0, err
		}
	case c == '"':
		typ = TypeString
		esc, err := p.str()
		if err != nil {
			return 0, err
		}
		p.nodes[idx].esc = esc
	case c == '-' || (c >= '0' && c <= '9'):
		typ = TypeNumber
		if err := p.number(); err != nil {
			return 0, err
		}
	case c == 't':
		typ = TypeBool
		if err := p.literal("true"); err != nil {
			return 0, err
		}
	case c == 'f':
		typ = TypeBool
		if err := p.literal("false"); err != nil {
			return 0, err
		}
	case c == 'n':
		typ = TypeNull
		if err := p.literal("null"); err != nil {
			return 0, err
		}
	default:
		return 0, p.errf("invalid character %q looking for a value", c)
	}
	p.nodes[idx].typ = typ
	p.nodes[idx].end = int32(p.i)
	return idx, nil
}

func (p *jsonParser) literal(lit string) error {
	if len(p.src)-p.i < len(lit) || string(p.src[p.i:p.i+len(lit)]) != lit {
		return p.errf("invalid literal, want %s", lit)
	}
	p.i += len(lit)
	return nil
}

func (p *jsonParser) number() error {
	end, bad := scanNumber(p.src, p.i)
	p.i = end
	if bad != "" {
		return p.errf("%s", bad)
	}
	return nil
}

// scanNumber scans the JSON number (RFC 8259) that starts at s[i] and returns the index just
// past it, or where it went wrong and why.
func scanNumber[T string | []byte](s T, i int) (end int, bad string) {
	digits := func() int {
		j := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		digits()
	default:
		return i, "invalid number"
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return i, "invalid number: no digit after '.'"
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return i, "invalid number: no digit in exponent"
		}
	}
	return i, ""
}

// str scans a string token starting at its opening quote; it reports whether the token needs
// decoding (escapes or invalid UTF-8).
func (p *jsonParser) str() (bool, error) {
	s := p.src
	start := p.i
	p.i++
	esc, high := false, false
	// Where a word of eight plain bytes starts a run, the next quote or backslash is found
	// with IndexByte, which steps over many bytes at once, and the bytes before it are checked
	// only for control characters and non-ASCII (skipASCII). stop is where the run ends (see
	// runEnd), looked for again only once the scan is near it: past an escape, or at the end
	// of runEnd's window. Each search ends at the next backslash or after runWindow bytes, so
	// a string is searched through about once, however many escapes it holds.
	stop := 0
	for p.i < len(s) {
		if p.i+8 <= len(s) && special(binary.LittleEndian.Uint64(s[p.i:])) == 0 {
			if p.i+8 > stop {
				stop = runEnd(s, p.i)
			}
			p.i = skipASCII(s, p.i, stop)
			if p.i >= len(s) {
				break
			}
		}
		c := s[p.i]
		switch {
		case c == '"':
			p.i++
			if high && !esc && !utf8.Valid(s[start+1:p.i-1]) {
				esc = true
			}
			return esc, nil
		case c == '\\':
			esc = true
			if p.i+1 >= len(s) {
				return false, p.errf("unterminated escape")
			}
			switch s[p.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i += 2
			case 'u':
				if p.i+6 > len(s) {
					return false, p.errf("short \\u escape")
				}
				for _, h := range s[p.i+2 : p.i+6] {
					if hexVal(h) < 0 {
						return false, p.errf("invalid \\u escape")
					}
				}
				p.i += 6
			default:
				return false, p.errf("invalid escape \\%c", s[p.i+1])
			}
		case c < 0x20:
			return false, p.errf("control character %#x in string", c)
		default:
			if c >= 0x80 {
				high = true
			}
			p.i++
		}
	}
	return false, p.errf("unterminated string")
}

const (
	ones = 0x0101010101010101 // a byte of one in every byte of a word
	high = 0x8080808080808080 // the high bit of every byte
)

// special is not zero when one of the eight bytes of x is one a string scan must look at: a
// quote or a backslash (a zero byte of x^'"' or x^'\\'), a byte below 0x20, or a byte with its
// high bit set.
func special(x uint64) uint64 {
	q, bs := x^('"'*ones), x^('\\'*ones)
	return ((x - 0x20*ones) | (q - ones) | (bs - ones) | x) & high
}

// runWindow bounds how far runEnd looks ahead, so that a string with many escapes is not
// searched over and over to its far end.
const runWindow = 512

// runEnd returns the offset of the first backslash or quote at or after i, looking no further
// than runWindow bytes (it returns the end of the window, or of s, if there is none). The
// backslash is looked for first, so that the search for the quote stops at it.
func runEnd(s []byte, i int) int {
	end := min(len(s), i+runWindow)
	if b := bytes.IndexByte(s[i:end], '\\'); b >= 0 {
		end = i + b
	}
	if q := bytes.IndexByte(s[i:end], '"'); q >= 0 {
		end = i + q
	}
	return end
}

// skipASCII steps over the bytes from i towards stop, eight at a time, while they are neither
// control characters nor non-ASCII; it returns the offset of the word that holds one, or one
// less than eight bytes before stop.
func skipASCII(s []byte, i, stop int) int {
	for ; i+8 <= stop; i += 8 {
		// A byte below 0x20 (its subtraction borrows, setting the high bit) or a high bit.
		if x := binary.LittleEndian.Uint64(s[i:]); ((x-0x20*ones)|x)&high != 0 {
			return i
		}
	}
	return i
}

func (p *jsonParser) array(idx int32, depth int) error {
	if depth > p.lim.MaxDepth {
		return fmt.Errorf("json: nesting deeper than %d at offset %d: %w", p.lim.MaxDepth, p.i, ErrTooLarge)
	}
	p.i++ // '['
	base := len(p.stack)
	p.skipSpace()
	if p.i < len(p.src) && p.src[p.i] == ']' {
		p.i++
		p.finish(idx, base)
		return nil
	}
	for n := int32(0); ; n++ {
		p.skipSpace()
		k, err := p.value(idx, n, -1, -1, false, depth)
		if err != nil {
			return err
		}
		p.stack = append(p.stack, k)
		p.skipSpace()
		if p.i >= len(p.src) {
			return p.errf("unterminated array")
		}
		switch p.src[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			p.finish(idx, base)
			return nil
		default:
			return p.errf("invalid character %q after array element", p.src[p.i])
		}
	}
}

func (p *jsonParser) object(idx int32, depth int) error {
	if depth > p.lim.MaxDepth {
		return fmt.Errorf("json: nesting deeper than %d at offset %d: %w", p.lim.MaxDepth, p.i, ErrTooLarge)
	}
	p.i++ // '{'
	base := len(p.stack)
	p.skipSpace()
	if p.i < len(p.src) && p.src[p.i] == '}' {
		p.i++
		p.finish(idx, base)
		return nil
	}
	for n := int32(0); ; n++ {
		p.skipSpace()
		if p.i >= len(p.src) || p.src[p.i] != '"' {
			return p.errf("want a string key in object")
		}
		keyStart := int32(p.i)
		keyEsc, err := p.str()
		if err != nil {
			return err
		}
		keyEnd := int32(p.i)
		p.skipSpace()
		if p.i >= len(p.src) || p.src[p.i] != ':' {
			return p.errf("want ':' after object key")
		}
		p.i++
		p.skipSpace()
		k, err := p.value(idx, n, keyStart, keyEnd, keyEsc, depth)
		if err != nil {
			return err
		}
		p.stack = append(p.stack, k)
		p.skipSpace()
		if p.i >= len(p.src) {
			return p.errf("unterminated object")
		}
		switch p.src[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			if !p.lim.AllowDuplicateKeys {
				if err := p.checkDuplicates(p.stack[base:]); err != nil {
					return err
				}
			}
			p.finish(idx, base)
			return nil
		default:
			return p.errf("invalid character %q after object member", p.src[p.i])
		}
	}
}

// finish moves the children collected since base into kids, contiguous for the container idx.
func (p *jsonParser) finish(idx int32, base int) {
	p.nodes[idx].kidsOff = int32(len(p.kids))
	p.nodes[idx].kidsLen = int32(len(p.stack) - base)
	p.kids = append(p.kids, p.stack[base:]...)
	p.stack = p.stack[:base]
}

func (p *jsonParser) checkDuplicates(members []int32) error {
	key := func(k int32) string {
		n := &p.nodes[k]
		raw := p.src[n.keyStart+1 : n.keyEnd-1]
		if n.keyEsc {
			return decodeJSONString(raw)
		}
		return string(raw)
	}
	// same compares two keys as decoded, allocating only for keys with escapes.
	same := func(a, b int32) bool {
		na, nb := &p.nodes[a], &p.nodes[b]
		if !na.keyEsc && !nb.keyEsc {
			// Keys of different lengths differ: most pairs are told apart without slicing.
			return na.keyEnd-na.keyStart == nb.keyEnd-nb.keyStart &&
				bytes.Equal(p.src[na.keyStart+1:na.keyEnd-1], p.src[nb.keyStart+1:nb.keyEnd-1])
		}
		return key(a) == key(b)
	}
	if len(members) <= 8 {
		for i := 1; i < len(members); i++ {
			for j := 0; j < i; j++ {
				if same(members[i], members[j]) {
					return &SyntaxError{Offset: int(p.nodes[members[i]].keyStart), Msg: fmt.Sprintf("duplicate key %q", key(members[i]))}
				}
			}
		}
		return nil
	}
	seen := make(map[string]struct{}, len(members))
	for _, m := range members {
		k := key(m)
		if _, dup := seen[k]; dup {
			return &SyntaxError{Offset: int(p.nodes[m].keyStart), Msg: fmt.Sprintf("duplicate key %q", k)}
		}
		seen[k] = struct{}{}
	}
	return nil
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// decodeJSONString decodes the inside of a string token the scanner accepted, the way
// encoding/json does: invalid UTF-8 bytes and lone surrogates become U+FFFD.
func decodeJSONString(s []byte) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := u4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, u4(s[i+2:])); dec != utf8.RuneError {
							i += 6
							b = utf8.AppendRune(b, dec)
							continue
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			default: // '"', '\\', '/'
				b = append(b, s[i+1])
			}
			i += 2
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		b = utf8.AppendRune(b, r) // RuneError for an invalid byte, as encoding/json
		i += size
	}
	return string(b)
}

func u4(s []byte) rune {
	if len(s) < 4 {
		return utf8.RuneError
	}
	var r rune
	for _, c := range s[:4] {
		v := hexVal(c)
		if v < 0 {
			return utf8.RuneError
		}
		r = r<<4 | rune(v)
	}
	return r
}
