package proxy

// Reason codes of input the enforcer could not read. Each is answered (the status beside it)
// and audited, and the connection is closed: the two sides no longer agree where the next
// message starts.
const (
	reasonHeaderTimeout  = "header_timeout"   // 408: the request head did not arrive in time
	reasonHeaderTooLarge = "header_too_large" // 431
	reasonBodyTooLarge   = "body_too_large"   // 413
	reasonMalformedBody  = "malformed_body"   // 400 (-32700 for JSON-RPC): a body that is not what it claims
	reasonInvalidJSONRPC = "invalid_jsonrpc"  // 400 (-32600)
	reasonHeaderMismatch = "mcp_header_mismatch"
	reasonPipelining     = "pipelining_refused" // 400 after the answer to the first request
	reasonIncompleteBody = "incomplete_body"    // the client went away inside its body: no answer
)

// Reason codes of refusals the enforcer gives itself, beside the decision engine's (pep.Reason).
// The connection goes on unless the refusal says it closes.
const (
	reasonNoEngine         = "no_policy_engine"  // 503: no policy is in force; closes
	reasonAuditUnavailable = "audit_unavailable" // 503: audit_before_forward records not durable
	reasonUpstreamFailed   = "upstream_failed"   // 502: the destination could not be reached or failed before answering
	reasonPseudonymFailed  = "pseudonym_failed"  // 503: a pseudonym collided, or the flow could not be set up
)
