package proxy

import (
	"net/http"
	"strconv"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// reply is a whole response the enforcer makes itself: a refusal, or the answer to input it
// could not read. Its body is JSON: a JSON-RPC error object for JSON-RPC clients (status 200 for
// refusals, so SDKs parse it as the call's answer), else {"error":{...}} (see
// protocol.HTTPPolicyRefusal).
type reply struct {
	status int
	body   []byte
	reason string // the reason code it reports, for the audit record
	detail string // what went wrong, for the audit record and the log (never traffic)
	close  bool   // close the connection after it
}

// inputError is the answer to input the enforcer could not read: it closes the connection,
// since the two sides no longer agree where the next message starts.
func inputError(status int, reason, detail string) reply {
	return reply{status: status, body: protocol.HTTPErrorBody(reason, detail), reason: reason, detail: detail, close: true}
}

// writeReply writes r to the client.
func (c *session) writeReply(r reply, req *http.Request) {
	w := c.cw
	_, _ = w.WriteString("HTTP/1.1 ")
	_, _ = w.WriteString(strconv.Itoa(r.status))
	_ = w.WriteByte(' ')
	_, _ = w.WriteString(http.StatusText(r.status))
	_, _ = w.WriteString("\r\nContent-Type: application/json\r\nContent-Length: ")
	_, _ = w.WriteString(strconv.Itoa(len(r.body)))
	switch {
	case r.close || (req != nil && req.Close):
		_, _ = w.WriteString("\r\nConnection: close")
	case req != nil && !req.ProtoAtLeast(1, 1):
		_, _ = w.WriteString("\r\nConnection: keep-alive")
	}
	_, _ = w.WriteString("\r\n\r\n")
	_, _ = w.Write(r.body)
	_ = w.Flush()
}

// rejectHead answers and audits a request head that could not be read.
func (c *session) rejectHead(r reply, err error) {
	c.writeReply(r, nil)
	rec := c.base
	rec.Protocol = protocolHTTP1
	rec.Verdict = verdictDeny
	rec.Reason = r.reason
	rec.ReasonCodes = []string{r.reason}
	rec.Status = r.status
	rec.Message = r.detail
	c.srv.audit(rec)
	c.srv.log.Debug("proxy: request head refused", "source", rec.Source, "destination", rec.Destination, "reason", r.reason, "err", redactQuoted(err.Error()))
}

// rejectInput answers and audits input of an exchange that could not be read or understood; the
// connection is then closed.
func (t *txn) rejectInput(r reply) {
	t.refuse(r)
	t.c.startClose()
	t.c.drainClient()
}

// refuse answers the exchange with r instead of forwarding it, and writes its exchange record.
func (t *txn) refuse(r reply) {
	t.c.writeReply(r, t.req)
	t.c.srv.refused.Add(1)
	t.deny(r.reason)
	t.status = r.status
	rec := t.record()
	rec.Message = r.detail
	t.writeRecord(rec)
	t.c.srv.log.Debug("proxy: exchange refused", "source", rec.Source, "destination", rec.Destination,
		"method", rec.Method, "path", rec.Path, "reason", r.reason, "detail", r.detail)
}

// refusalFor returns the refusal of a JSON-RPC body in its protocol: one error object per
// request, with the request's own id (before any pseudonym), HTTP 200. A body of notifications
// only gets an HTTP refusal.
func refusalFor(b *protocol.Body, data protocol.RefusalData, httpStatus int) reply {
	r := reply{status: httpStatus, body: protocol.HTTPPolicyRefusal(data), reason: data.Reason, detail: data.Detail}
	if b == nil || b.RPC == nil {
		return r
	}
	var out []byte
	n := 0
	for i := range b.RPC.Messages {
		m := &b.RPC.Messages[i]
		if m.Type != protocol.RPCRequest {
			continue
		}
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = append(out, protocol.PolicyRefusal(m.ID, data)...)
	}
	switch {
	case n == 0:
		return r
	case b.RPC.Batch:
		out = append(append([]byte{'['}, out...), ']')
	}
	r.status, r.body = http.StatusOK, out
	return r
}

// badBody answers a body that claims to be JSON and is not, or is JSON but not valid JSON-RPC:
// a JSON-RPC error (-32700 or -32600) for what looks like JSON-RPC, HTTP 400 either way.
func badBody(err error, jsonrpc bool) reply {
	reason := reasonMalformedBody
	if isInvalidRequest(err) {
		reason = reasonInvalidJSONRPC
	}
	detail := redactQuoted(err.Error())
	r := inputError(http.StatusBadRequest, reason, detail)
	if jsonrpc {
		r.body = protocol.RPCErrorFor(nil, err)
	}
	return r
}
