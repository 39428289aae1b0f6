package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// genesis is the prev of the first record of a chain.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// head is the end of a chain: the last record's seq and the hash of its line.
type head struct {
	seq  uint64
	hash string // hex sha256 of the line's bytes, without the newline
}

// hashLine is the chain hash of one line: sha256 over its exact bytes, newline excluded.
func hashLine(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// encodeBody marshals r without the fields the chain assigns (v, seq, prev): the result is
// spliced after them by appendLine. r.ID must already be set so the body is never "{}".
// The bytes are encoding/json's; appendRecord makes them without reflection when it can.
func encodeBody(r Record) ([]byte, error) {
	return appendBody(make([]byte, 0, 640), &r)
}

// appendBody appends r's body (see encodeBody) to buf, clearing r's chain fields.
func appendBody(buf []byte, r *Record) ([]byte, error) {
	r.V, r.Seq, r.Prev = 0, 0, ""
	if body, ok := appendRecord(buf, r); ok {
		return body, nil
	}
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode audit record: %w", err)
	}
	return append(buf, body...), nil
}

// appendLine appends the line of the record with body at seq after prev to buf, newline
// included, and returns buf and the line's chain hash.
func appendLine(buf []byte, seq uint64, prev string, body []byte) ([]byte, string) {
	start := len(buf)
	buf = append(buf, `{"v":`...)
	buf = strconv.AppendInt(buf, SchemaVersion, 10)
	buf = append(buf, `,"seq":`...)
	buf = strconv.AppendUint(buf, seq, 10)
	buf = append(buf, `,"prev":"`...)
	buf = append(buf, prev...)
	buf = append(buf, `",`...)
	buf = append(buf, body[1:]...)
	h := hashLine(buf[start:])
	return append(buf, '\n'), h
}

// lineHeader is what the chain needs from a line; parseLine fills it in.
type lineHeader struct {
	V          int             `json:"v"`
	Seq        uint64          `json:"seq"`
	Prev       string          `json:"prev"`
	ID         string          `json:"id"`
	Node       string          `json:"node"`
	Kind       string          `json:"kind"`
	Time       json.RawMessage `json:"time"`
	Checkpoint *Checkpoint     `json:"checkpoint"`
	Torn       *Torn           `json:"torn"`
}

// errNotRecord wraps every reason parseLine refuses a line.
var errNotRecord = errors.New("not an audit record")

// parseLine checks that line (without newline) is one record of this schema version and
// returns its chain fields. It never panics, whatever the bytes.
func parseLine(line []byte) (lineHeader, error) {
	var h lineHeader
	if len(line) == 0 || line[0] != '{' || line[len(line)-1] != '}' {
		return h, fmt.Errorf("%w: not a JSON object", errNotRecord)
	}
	if err := json.Unmarshal(line, &h); err != nil {
		return h, fmt.Errorf("%w: %w", errNotRecord, err)
	}
	switch {
	case h.V != SchemaVersion:
		return h, fmt.Errorf("%w: schema version %d, want %d", errNotRecord, h.V, SchemaVersion)
	case h.Seq == 0:
		return h, fmt.Errorf("%w: no seq", errNotRecord)
	case !isHash(h.Prev):
		return h, fmt.Errorf("%w: prev is not a hex sha256", errNotRecord)
	case h.ID == "":
		return h, fmt.Errorf("%w: no id", errNotRecord)
	case h.Kind == "":
		return h, fmt.Errorf("%w: no kind", errNotRecord)
	case len(h.Time) == 0 || bytes.Equal(h.Time, []byte("null")):
		return h, fmt.Errorf("%w: no time", errNotRecord)
	}
	return h, nil
}

// isHash reports whether s is a lower-case hex sha256.
func isHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// lineReader reads lines of any length.
type lineReader struct {
	br  *bufio.Reader
	acc []byte
}

// next returns the next line with its newline; at the end of the input, what is left with
// io.EOF. The line is valid until the next call.
func (r *lineReader) next() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, err
	}
	r.acc = append(r.acc[:0], line...)
	for errors.Is(err, bufio.ErrBufferFull) {
		line, err = r.br.ReadSlice('\n')
		r.acc = append(r.acc, line...)
	}
	return r.acc, err
}

// recordFields is Record's layout as appendRecord writes it: name, type and tag of each field
// in order. A Record that no longer has this layout is encoded by encoding/json instead (and
// TestRecordEncoderKnowsEveryField fails until appendRecord learns the change).
var recordFields = []string{
	"V int `json:\"v,omitempty\"`", "Seq uint64 `json:\"seq,omitempty\"`", "Prev string `json:\"prev,omitempty\"`",
	"ID string `json:\"id,omitempty\"`", "Time time.Time `json:\"time\"`", "Node string `json:\"node\"`",
	"Kind string `json:\"kind\"`", "AgentID string `json:\"agent_id,omitempty\"`", "Role string `json:\"role,omitempty\"`",
	"Zone string `json:\"zone,omitempty\"`", "PID uint32 `json:\"pid,omitempty\"`", "Comm string `json:\"comm,omitempty\"`",
	"CgroupID uint64 `json:\"cgroup_id,omitempty\"`", "Cookie uint64 `json:\"cookie,omitempty\"`",
	"SPIFFEID string `json:\"spiffe_id,omitempty\"`", "Measurement string `json:\"measurement,omitempty\"`",
	"Source string `json:\"source,omitempty\"`", "Destination string `json:\"destination,omitempty\"`",
	"DstZone string `json:\"dst_zone,omitempty\"`", "TargetAgent string `json:\"target_agent,omitempty\"`",
	"TargetService string `json:\"target_service,omitempty\"`", "Transport string `json:\"transport,omitempty\"`",
	"Protocol string `json:\"protocol,omitempty\"`", "ExchangeID string `json:\"exchange_id,omitempty\"`",
	"Domain string `json:\"domain,omitempty\"`", "Tier string `json:\"tier,omitempty\"`",
	"Channel string `json:\"channel,omitempty\"`", "Verdict string `json:\"verdict,omitempty\"`",
	"Reason string `json:\"reason,omitempty\"`", "ReasonCodes []string `json:\"reason_codes,omitempty\"`",
	"MaskedKeys []string `json:\"masked_keys,omitempty\"`", "Method string `json:\"method,omitempty\"`",
	"Path string `json:\"path,omitempty\"`", "RPCMethod string `json:\"rpc_method,omitempty\"`",
	"Tool string `json:\"tool,omitempty\"`", "Status int `json:\"status,omitempty\"`",
	"BytesIn int64 `json:\"bytes_in,omitempty\"`", "BytesOut int64 `json:\"bytes_out,omitempty\"`",
	"PayloadBytes int64 `json:\"payload_bytes,omitempty\"`", "PayloadSHA256 string `json:\"payload_sha256,omitempty\"`",
	"DurationNS int64 `json:\"duration_ns,omitempty\"`", "PayloadSealed *audit.Sealed `json:\"payload_sealed,omitempty\"`",
	"ResponseSealed *audit.Sealed `json:\"response_sealed,omitempty\"`", "Message string `json:\"message,omitempty\"`",
	"Checkpoint *audit.Checkpoint `json:\"checkpoint,omitempty\"`", "Torn *audit.Torn `json:\"torn,omitempty\"`",
}

// recordLayout is Record's layout in the form of recordFields.
func recordLayout() []string {
	t := reflect.TypeFor[Record]()
	out := make([]string, t.NumField())
	for i := range out {
		f := t.Field(i)
		out[i] = f.Name + " " + f.Type.String() + " `" + string(f.Tag) + "`"
	}
	return out
}

// recordEncodable is set once, at start: whether Record still has the layout appendRecord knows.
var recordEncodable = slices.Equal(recordLayout(), recordFields)

// appendRecord appends r as encoding/json marshals it (same fields, order, omitempty and
// escaping). ok is false when it cannot: Record has changed, or the time is one encoding/json
// refuses (then json.Marshal says why).
func appendRecord(b []byte, r *Record) (_ []byte, ok bool) {
	if !recordEncodable {
		return nil, false
	}
	// Every member is written with a comma before it; the first comma becomes the brace.
	// "time", "node" and "kind" are never omitted, so there is a first member.
	start := len(b)
	b = appendInt(b, "v", int64(r.V))
	b = appendUint(b, "seq", r.Seq)
	b = appendStr(b, "prev", r.Prev, true)
	b = appendStr(b, "id", r.ID, true)
	b = append(b, `,"time":"`...)
	b, err := r.Time.AppendText(b)
	if err != nil {
		return nil, false
	}
	b = append(b, '"')
	b = appendStr(b, "node", r.Node, false)
	b = appendStr(b, "kind", r.Kind, false)
	b = appendStr(b, "agent_id", r.AgentID, true)
	b = appendStr(b, "role", r.Role, true)
	b = appendStr(b, "zone", r.Zone, true)
	b = appendUint(b, "pid", uint64(r.PID))
	b = appendStr(b, "comm", r.Comm, true)
	b = appendUint(b, "cgroup_id", r.CgroupID)
	b = appendUint(b, "cookie", r.Cookie)
	for _, m := range [...]struct{ k, v string }{{"spiffe_id", r.SPIFFEID}, {"measurement", r.Measurement},
		{"source", r.Source}, {"destination", r.Destination}, {"dst_zone", r.DstZone},
		{"target_agent", r.TargetAgent}, {"target_service", r.TargetService}, {"transport", r.Transport},
		{"protocol", r.Protocol}, {"exchange_id", r.ExchangeID}, {"domain", r.Domain}, {"tier", r.Tier},
		{"channel", r.Channel}, {"verdict", r.Verdict}, {"reason", r.Reason}} {
		b = appendStr(b, m.k, m.v, true)
	}
	b = appendStrs(b, "reason_codes", r.ReasonCodes)
	b = appendStrs(b, "masked_keys", r.MaskedKeys)
	for _, m := range [...]struct{ k, v string }{{"method", r.Method}, {"path", r.Path}, {"rpc_method", r.RPCMethod}, {"tool", r.Tool}} {
		b = appendStr(b, m.k, m.v, true)
	}
	b = appendInt(b, "status", int64(r.Status))
	b = appendInt(b, "bytes_in", r.BytesIn)
	b = appendInt(b, "bytes_out", r.BytesOut)
	b = appendInt(b, "payload_bytes", r.PayloadBytes)
	b = appendStr(b, "payload_sha256", r.PayloadSHA256, true)
	b = appendInt(b, "duration_ns", r.DurationNS)
	b, sealedOK := appendMarshaled(b, "payload_sealed", r.PayloadSealed, r.PayloadSealed != nil)
	b, responseOK := appendMarshaled(b, "response_sealed", r.ResponseSealed, r.ResponseSealed != nil)
	b = appendStr(b, "message", r.Message, true)
	b, checkpointOK := appendMarshaled(b, "checkpoint", r.Checkpoint, r.Checkpoint != nil)
	b, tornOK := appendMarshaled(b, "torn", r.Torn, r.Torn != nil)
	if !sealedOK || !responseOK || !checkpointOK || !tornOK {
		return nil, false
	}
	b[start] = '{'
	return append(b, '}'), true
}

// appendKey appends a comma and the key k of an object member.
func appendKey(b []byte, k string) []byte {
	b = append(b, ',', '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

func appendStr(b []byte, k, v string, omitEmpty bool) []byte {
	if omitEmpty && v == "" {
		return b
	}
	return appendJSONString(appendKey(b, k), v)
}

func appendStrs(b []byte, k string, vs []string) []byte {
	if len(vs) == 0 {
		return b
	}
	b = append(appendKey(b, k), '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
	}
	return append(b, ']')
}

func appendInt(b []byte, k string, v int64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendInt(appendKey(b, k), v, 10)
}

func appendUint(b []byte, k string, v uint64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendUint(appendKey(b, k), v, 10)
}

// appendMarshaled appends, when present, a member encoding/json marshals (the rare nested
// objects); ok is false when it fails.
func appendMarshaled(b []byte, k string, v any, present bool) (_ []byte, ok bool) {
	if !present {
		return b, true
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return b, false
	}
	return append(appendKey(b, k), raw...), true
}

// shortEscaped are the bytes encoding/json escapes with a backslash and the letter at the
// same index of shortEscapes.
const shortEscaped, shortEscapes = "\"\\\b\f\n\r\t", "\"\\bfnrt"

// appendJSONString appends s quoted as encoding/json does by default: ", \\ and control
// characters escaped (\b \f \n \r \t short), <, > and & as \u003c \u003e \u0026, U+2028 and
// U+2029 escaped, invalid UTF-8 as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			if k := strings.IndexByte(shortEscaped, c); k >= 0 {
				b = append(b, '\\', shortEscapes[k])
			} else {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
