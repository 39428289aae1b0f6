package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// A fast path for the message heads nearly every agent exchange has: an HTTP/1.1 request in
// origin form, or a 2xx–5xx response, whose head is already whole in the reader's buffer, with
// plain header lines and a single Content-Length (or, for a request, no body). Such a head is
// parsed from the buffer in one pass with one string allocation, instead of net/http's line by
// line reading; and the request's head-read deadline need not be set, since no byte remains to
// wait for.
//
// The fast path only ever accepts a strict subset of what net/http accepts, and builds exactly
// the Request or Response net/http would (FuzzFastHeadAgreesWithNetHTTP checks both). Anything
// else — a head not yet whole, a bare LF, a folded or malformed line, Transfer-Encoding,
// Trailer, Pragma, several Content-Length or Host values, a target not in origin form, other
// HTTP versions, a response without a body or without a length — is left untouched in the
// buffer for net/http, which parses it or reports the error as before.

// maxFastHeaderLines bounds the header lines a fast-path head may have; longer heads go to
// net/http.
const maxFastHeaderLines = 64

// fastHead is a head the fast path split: its start line and its header.
type fastHead struct {
	start  string
	header http.Header
	size   int // bytes of the head in the buffer, blank line included
}

var crlfCRLF = []byte("\r\n\r\n")

// splitFastHead splits the head at the front of buf. ok is false unless the head is whole in
// buf, every line ends in CRLF, no line holds a control byte other than HTAB, no header line is
// folded (begins with a space or tab), every header name is a token followed directly by a
// colon, and there are at most maxFastHeaderLines header lines. Values are trimmed of spaces
// and tabs at both ends, as net/textproto does; keys are canonical.
func splitFastHead(buf []byte) (h fastHead, ok bool) {
	end := bytes.Index(buf, crlfCRLF)
	if end < 0 {
		return fastHead{}, false
	}
	// One pass over the head: no control byte but HTAB and the CR LF pairs that end lines
	// (buf[end] is the CR of the blank line's pair), so every line split below is clean.
	for i, b := range buf[:end] {
		switch {
		case b == '\r':
			if buf[i+1] != '\n' {
				return fastHead{}, false
			}
		case b == '\n':
			if i == 0 || buf[i-1] != '\r' {
				return fastHead{}, false
			}
		case b < ' ' && b != '\t' || b == 0x7f:
			return fastHead{}, false
		}
	}
	text := string(buf[:end]) // every string of the head is a piece of this one
	start, rest, _ := strings.Cut(text, "\r\n")
	lines := 0
	if rest != "" {
		lines = strings.Count(rest, "\r\n") + 1
	}
	if lines > maxFastHeaderLines {
		return fastHead{}, false
	}
	header := make(http.Header, lines)
	values := make([]string, lines) // one backing array; most keys have one value
	for i := 0; i < lines; i++ {
		var line string
		line, rest, _ = strings.Cut(rest, "\r\n")
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			return fastHead{}, false
		}
		k, v, found := strings.Cut(line, ":")
		if !found || !isToken(k) {
			return fastHead{}, false
		}
		key := textproto.CanonicalMIMEHeaderKey(k)
		v = strings.Trim(v, " \t")
		if vv, seen := header[key]; seen {
			header[key] = append(vv, v)
			continue
		}
		values[i] = v
		header[key] = values[i : i+1 : i+1]
	}
	return fastHead{start: start, header: header, size: end + len(crlfCRLF)}, true
}

// isToken reports whether s is an HTTP token (RFC 9110, section 5.6.2): a method or a field name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

func isTokenByte(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// fastFraming reads what the fast path needs of a head's framing headers: the one
// Content-Length (-1 when there is none) and whether Connection lists close and keep-alive.
// ok is false for what only net/http handles: Transfer-Encoding, Trailer, Pragma (which
// net/http rewrites), several or malformed Content-Length values, several Host values, or a
// Connection value that is not a plain list of tokens.
func fastFraming(h http.Header) (length int64, hasClose, keepAlive, ok bool) {
	for _, name := range [...]string{"Transfer-Encoding", "Trailer", "Pragma"} {
		if _, present := h[name]; present {
			return 0, false, false, false
		}
	}
	if len(h["Host"]) > 1 {
		return 0, false, false, false
	}
	length = -1
	switch cl := h["Content-Length"]; len(cl) {
	case 0:
	case 1:
		if length, ok = parseLength(cl[0]); !ok {
			return 0, false, false, false
		}
	default:
		return 0, false, false, false
	}
	for _, v := range h["Connection"] {
		for t := range strings.SplitSeq(v, ",") {
			t = strings.Trim(t, " \t")
			if t != "" && !isToken(t) {
				return 0, false, false, false
			}
			hasClose = hasClose || strings.EqualFold(t, "close")
			keepAlive = keepAlive || strings.EqualFold(t, "keep-alive")
		}
	}
	return length, hasClose, keepAlive, true
}

// parseLength parses a Content-Length value: 1 to 18 decimal digits, nothing else.
func parseLength(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// httpVersion returns the minor version of "HTTP/1.1" or "HTTP/1.0"; ok is false for any other.
func httpVersion(proto string) (minor int, ok bool) {
	switch proto {
	case "HTTP/1.1":
		return 1, true
	case "HTTP/1.0":
		return 0, true
	}
	return 0, false
}

// fastReadRequest reads a request head from br's buffer on the fast path, as http.ReadRequest
// would. ok is false, and nothing is consumed, for any head the fast path leaves to net/http.
func fastReadRequest(br *bufio.Reader) (*http.Request, bool) {
	buf, _ := br.Peek(br.Buffered())
	h, ok := splitFastHead(buf)
	if !ok {
		return nil, false
	}
	method, rest, ok1 := strings.Cut(h.start, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	minor, ok3 := httpVersion(proto)
	// CONNECT and PRI (HTTP/2's preface) read their targets differently in net/http.
	if !ok1 || !ok2 || !ok3 || !isToken(method) || method == http.MethodConnect || method == "PRI" || !strings.HasPrefix(target, "/") {
		return nil, false
	}
	length, hasClose, keepAlive, ok := fastFraming(h.header)
	if !ok {
		return nil, false
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, false
	}
	req := &http.Request{
		Method: method, URL: u, RequestURI: target,
		Proto: proto, ProtoMajor: 1, ProtoMinor: minor,
		Header: h.header,
		Close:  hasClose || minor == 0 && !keepAlive,
		Body:   http.NoBody,
	}
	if host := h.header["Host"]; len(host) > 0 {
		req.Host = host[0]
	}
	delete(h.header, "Host") // as http.ReadRequest: the host is req.Host
	if length > 0 {
		req.ContentLength = length
		req.Body = &fixedBody{r: br, left: length}
	}
	_, _ = br.Discard(h.size)
	return req, true
}

// fastReadResponse reads the head of the response to req from br's buffer on the fast path,
// as http.ReadResponse would; it waits for the response's first bytes. ok is false, and
// nothing is consumed, for any head the fast path leaves to net/http (an error while waiting
// included: net/http meets it again and reports it).
func fastReadResponse(br *bufio.Reader, req *http.Request) (*http.Response, bool) {
	if _, err := br.Peek(1); err != nil || req.Method == http.MethodHead {
		return nil, false
	}
	buf, _ := br.Peek(br.Buffered())
	h, ok := splitFastHead(buf)
	if !ok {
		return nil, false
	}
	proto, status, _ := strings.Cut(h.start, " ")
	code := 0
	for i := 0; i < 3 && i < len(status); i++ {
		if status[i] < '0' || status[i] > '9' {
			return nil, false
		}
		code = code*10 + int(status[i]-'0')
	}
	if proto != "HTTP/1.1" || len(status) < 3 || len(status) > 3 && status[3] != ' ' ||
		code < 200 || code > 599 || code == http.StatusNoContent || code == http.StatusNotModified {
		return nil, false
	}
	length, _, _, ok := fastFraming(h.header)
	// A Connection header is left to net/http, which removes a close token from a response's.
	if _, conn := h.header["Connection"]; !ok || conn || length < 0 {
		return nil, false
	}
	resp := &http.Response{
		Status: status, StatusCode: code,
		Proto: proto, ProtoMajor: 1, ProtoMinor: 1,
		Header: h.header, ContentLength: length, Body: http.NoBody,
		Request: req,
	}
	if length > 0 {
		resp.Body = &fixedBody{r: br, left: length}
	}
	_, _ = br.Discard(h.size)
	return resp, true
}

// fixedBody is a body of a known length read from a connection's reader, as net/http's own:
// its last bytes come with io.EOF, an early end is io.ErrUnexpectedEOF, and Close reads what is
// left so that the connection can carry the next message.
type fixedBody struct {
	r      *bufio.Reader
	left   int64
	closed bool
}

func (b *fixedBody) Read(p []byte) (int, error) {
	switch {
	case b.closed:
		return 0, http.ErrBodyReadAfterClose
	case b.left == 0:
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	switch {
	case b.left == 0:
		return n, io.EOF
	case errors.Is(err, io.EOF):
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *fixedBody) Close() error {
	if b.closed {
		return nil
	}
	_, err := io.Copy(io.Discard, struct{ io.Reader }{b})
	b.closed = true
	return err
}
