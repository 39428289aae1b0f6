package protocol

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// MCP transport header names.
const (
	HeaderMCPSessionID       = "Mcp-Session-Id"
	HeaderMCPProtocolVersion = "Mcp-Protocol-Version" // canonical form of MCP-Protocol-Version
	HeaderMCPMethod          = "Mcp-Method"
	HeaderMCPName            = "Mcp-Name"
)

// MCPStatelessVersion is the first MCP revision whose requests mirror their method and target
// name in the Mcp-Method and Mcp-Name headers (SEP-2243), and drops sessions.
const MCPStatelessVersion = "2026-07-28"

// MCP transports.
const (
	MCPStreamableHTTP = "streamable_http" // POST with a JSON or SSE reply (2025-03-26 on)
	MCPLegacySSE      = "sse"             // the 2024-11-05 HTTP+SSE transport: GET /sse stream, POSTs to its endpoint
	MCPStateless      = "stateless"       // Streamable HTTP at MCPStatelessVersion or later
)

// MCPTransport is what the HTTP layer says about an MCP exchange.
type MCPTransport struct {
	// Transport is one of MCPStreamableHTTP, MCPLegacySSE, MCPStateless: a best guess from
	// headers and path (a POST to a legacy endpoint is recognised by its sessionId query).
	Transport       string
	SessionID       string
	ProtocolVersion string
	// HeaderMethod and HeaderName are the mirrored headers, decoded from the base64 sentinel
	// form, when present.
	HeaderMethod, HeaderName       string
	HasHeaderMethod, HasHeaderName bool
	// NameDecodeErr is set when Mcp-Name holds a malformed base64 sentinel.
	NameDecodeErr error
	// RepeatedHeader is set when Mcp-Method or Mcp-Name appears more than once: receivers
	// disagree about which copy counts, so CheckMCPHeaders refuses it.
	RepeatedHeader bool
}

// Stateless reports whether the exchange uses the revision with mirrored headers.
func (t *MCPTransport) Stateless() bool { return isStatelessVersion(t.ProtocolVersion) }

func isStatelessVersion(v string) bool {
	return len(v) == len(MCPStatelessVersion) && v[4] == '-' && v[7] == '-' && v >= MCPStatelessVersion
}

func mcpTransportOf(h http.Header, method, target string) MCPTransport {
	// The header names are in canonical form: indexing h is what h.Get and h.Values do, without
	// canonicalising the names again.
	t := MCPTransport{
		SessionID:       headerValue(h[HeaderMCPSessionID]),
		ProtocolVersion: headerValue(h[HeaderMCPProtocolVersion]),
		Transport:       MCPStreamableHTTP,
	}
	methods, names := h[HeaderMCPMethod], h[HeaderMCPName]
	t.RepeatedHeader = len(methods) > 1 || len(names) > 1
	if v := methods; len(v) > 0 {
		t.HasHeaderMethod = true
		if m, err := DecodeMCPHeaderValue(v[0]); err == nil {
			t.HeaderMethod = m
		} else {
			t.HeaderMethod = v[0] // compared literally: it will not match the body's method
		}
	}
	if v := names; len(v) > 0 {
		t.HasHeaderName = true
		t.HeaderName, t.NameDecodeErr = DecodeMCPHeaderValue(v[0])
	}
	path := targetPath(target)
	switch {
	case t.Stateless():
		t.Transport = MCPStateless
	case strings.EqualFold(method, http.MethodGet) && strings.HasSuffix(path, "/sse"):
		t.Transport = MCPLegacySSE
	case t.SessionID == "" && (strings.Contains(target, "sessionId=") || strings.Contains(target, "session_id=")):
		t.Transport = MCPLegacySSE
	}
	return t
}

// merge completes a response's transport view with its request's.
func (t *MCPTransport) merge(req *MCPTransport) {
	if t.SessionID == "" {
		t.SessionID = req.SessionID
	}
	if t.ProtocolVersion == "" {
		t.ProtocolVersion = req.ProtocolVersion
	}
	t.Transport = req.Transport
}

// HeaderMismatchError says how MCP's mirrored headers disagree with the body.
type HeaderMismatchError struct {
	Header      string // Mcp-Method or Mcp-Name
	HeaderValue string // decoded
	BodyValue   string
	Reason      string
}

func (e *HeaderMismatchError) Error() string {
	return fmt.Sprintf("mcp: %s: %s", e.Header, e.Reason)
}

// Is makes the error match [ErrHeaderMismatch].
func (e *HeaderMismatchError) Is(target error) bool { return target == ErrHeaderMismatch }

// mcpNameOf returns what Mcp-Name mirrors for a method: params.name of tools/call and
// prompts/get, params.uri of resources/read (and subscribe / unsubscribe); required reports that
// the stateless revision requires the header.
func mcpNameOf(m *RPC) (name string, has, required bool) {
	switch m.Method {
	case MCPToolsCall, MCPPromptsGet:
		return m.Params.Get("name").Str(), true, true
	case MCPResourcesRead:
		return m.Params.Get("uri").Str(), true, true
	case "resources/subscribe", "resources/unsubscribe":
		return m.Params.Get("uri").Str(), true, false
	}
	return "", false, false
}

// CheckMCPHeaders checks that a request's Mcp-Method and Mcp-Name headers agree with its parsed
// JSON-RPC body (b from [Parser.ParseRequest]). A header that is present must match; at
// [MCPStatelessVersion] or later, a request must carry Mcp-Method, and tools/call, prompts/get
// and resources/read must carry Mcp-Name. The error is a *HeaderMismatchError matching
// [ErrHeaderMismatch]; MCP answers it with HTTP 400 and [CodeMCPHeaderMismatch].
func CheckMCPHeaders(h http.Header, b *Body) error {
	if b == nil || b.RPC == nil {
		return nil
	}
	t := mcpTransportOf(h, "", b.Target)
	mismatch := func(hdr, hv, bv, reason string) error {
		return &HeaderMismatchError{Header: hdr, HeaderValue: hv, BodyValue: bv, Reason: reason}
	}
	if t.RepeatedHeader {
		return mismatch(HeaderMCPMethod, "", "", "Mcp-Method or Mcp-Name repeated")
	}
	if b.RPC.Batch {
		if t.HasHeaderMethod || t.HasHeaderName {
			return mismatch(HeaderMCPMethod, t.HeaderMethod, "", "mirrored headers on a batch")
		}
		return nil
	}
	m := &b.RPC.Messages[0]
	stateless := t.Stateless()
	switch {
	case t.HasHeaderMethod && t.HeaderMethod != m.Method:
		return mismatch(HeaderMCPMethod, t.HeaderMethod, m.Method, fmt.Sprintf("header says %q, body says %q", t.HeaderMethod, m.Method))
	case !t.HasHeaderMethod && stateless && m.Type == RPCRequest:
		return mismatch(HeaderMCPMethod, "", m.Method, "missing")
	}
	if !t.HasHeaderName && !stateless {
		return nil // nothing below applies: the body's name need not be read
	}
	name, has, required := mcpNameOf(m)
	switch {
	case t.HasHeaderName && t.NameDecodeErr != nil:
		return mismatch(HeaderMCPName, h.Get(HeaderMCPName), name, t.NameDecodeErr.Error())
	case t.HasHeaderName && !has:
		return mismatch(HeaderMCPName, t.HeaderName, "", fmt.Sprintf("present, but %q names nothing", m.Method))
	case t.HasHeaderName && t.HeaderName != name:
		return mismatch(HeaderMCPName, t.HeaderName, name, fmt.Sprintf("header says %q, body says %q", t.HeaderName, name))
	case !t.HasHeaderName && stateless && required && m.Type == RPCRequest:
		return mismatch(HeaderMCPName, "", name, "missing")
	}
	return nil
}

// HeaderMismatchResponse is the JSON-RPC answer to a header mismatch (send it with HTTP 400).
func HeaderMismatchResponse(id json.RawMessage, err error) []byte {
	return ErrorResponse(id, CodeMCPHeaderMismatch, "Header mismatch", map[string]string{"detail": err.Error()})
}

// RewriteMCPHeaders sets a request's Mcp-Method and Mcp-Name headers from its body, for use after
// the enforcer changed the body. It acts only on requests that use mirrored headers (they carry
// one, or their MCP-Protocol-Version is [MCPStatelessVersion] or later); a header the new body
// does not call for is removed. Values outside the header character set are written in the
// base64 sentinel form.
func RewriteMCPHeaders(h http.Header, body []byte, lim Limits) error {
	hasMethod, hasName := len(h.Values(HeaderMCPMethod)) > 0, len(h.Values(HeaderMCPName)) > 0
	if !hasMethod && !hasName && !isStatelessVersion(h.Get(HeaderMCPProtocolVersion)) {
		return nil
	}
	rpc, err := ParseJSONRPC(body, lim)
	if err != nil {
		return fmt.Errorf("rewrite mcp headers: %w", err)
	}
	if rpc.Batch {
		h.Del(HeaderMCPMethod)
		h.Del(HeaderMCPName)
		return nil
	}
	m := &rpc.Messages[0]
	if m.Method == "" {
		h.Del(HeaderMCPMethod)
	} else {
		h.Set(HeaderMCPMethod, EncodeMCPHeaderValue(m.Method))
	}
	if name, has, _ := mcpNameOf(m); has {
		h.Set(HeaderMCPName, EncodeMCPHeaderValue(name))
	} else {
		h.Del(HeaderMCPName)
	}
	return nil
}

const (
	b64Prefix = "=?base64?"
	b64Suffix = "?="
)

// EncodeMCPHeaderValue returns v as an MCP mirrored header value: as is when it is plain
// printable ASCII without surrounding whitespace, else in the sentinel form
// "=?base64?" + base64(UTF-8) + "?=" (also when v itself looks like that form).
func EncodeMCPHeaderValue(v string) string {
	plain := v == strings.TrimSpace(v) && !(strings.HasPrefix(v, b64Prefix) && strings.HasSuffix(v, b64Suffix))
	for i := 0; plain && i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f {
			plain = false
		}
	}
	if plain {
		return v
	}
	return b64Prefix + base64.StdEncoding.EncodeToString([]byte(v)) + b64Suffix
}

// DecodeMCPHeaderValue decodes a mirrored header value, undoing the base64 sentinel form (whose
// markers are case-sensitive; anything else is taken literally).
func DecodeMCPHeaderValue(v string) (string, error) {
	if len(v) < len(b64Prefix)+len(b64Suffix) || !strings.HasPrefix(v, b64Prefix) || !strings.HasSuffix(v, b64Suffix) {
		return v, nil
	}
	raw, err := base64.StdEncoding.DecodeString(v[len(b64Prefix) : len(v)-len(b64Suffix)])
	if err != nil {
		return "", fmt.Errorf("mcp header: bad base64 sentinel value: %w", ErrMalformed)
	}
	return string(raw), nil
}

// LegacyEndpoint returns the POST endpoint an MCP legacy HTTP+SSE server announces in its first
// event ("event: endpoint", data the URI, often relative with a sessionId query).
func LegacyEndpoint(ev Event) (string, bool) {
	if ev.Type != "endpoint" || !ev.HasData {
		return "", false
	}
	return strings.TrimSpace(ev.Data), true
}

// headerValue is http.Header.Get of the values of one header.
func headerValue(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}
