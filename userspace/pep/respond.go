package pep

import "net/http"

// Response is a response on its way back to the agent that sent the request of a domain.
type Response struct {
	Domain          string // the request's Decision.Domain
	Headers         http.Header
	Body            any
	Raw             []byte
	Lazy            Lazy // as Exchange.Lazy
	Text            bool // Body is a plain text, as Exchange.Text
	BodySize        int64
	MetadataPaths   [][]string
	ClientInfoPaths [][]string
}

// Respond classifies, redacts and scrubs a response of an allowed request: tool results,
// task artifacts and model outputs are classified with the same domain's rules as the
// request. A block finding refuses it (classification_block), as does a body over
// max_body_bytes. Identity checks do not apply, and tier protection of responses is left to
// the tier work: Payload is the body to relay as it is.
func (e *Engine) Respond(r *Response) Decision {
	var d *domain
	for i := range e.domains {
		if e.domains[i].policy.Name == r.Domain {
			d = &e.domains[i]
			break
		}
	}
	if d == nil {
		return Decision{Verdict: Deny, Reasons: []Reason{ReasonNoPolicy}, Body: r.Body}
	}
	dec := Decision{Domain: d.policy.Name, Tier: d.policy.Tier, Verdict: Allow, Policy: d.policy, Body: r.Body}
	if r.BodySize > d.policy.BodyLimit() {
		dec.deny(ReasonBodyTooLarge)
	}
	e.resolve(d, &r.Lazy, r.MetadataPaths, r.ClientInfoPaths, &dec)
	e.classifyBody(d, &dec)
	ex := &Exchange{Headers: r.Headers, Raw: r.Raw, Text: r.Text, MetadataPaths: r.MetadataPaths, ClientInfoPaths: r.ClientInfoPaths}
	if d.policy.MetadataMasking {
		e.scrub(d, ex, &dec)
	}
	if dec.Verdict == Allow {
		payload, err := payloadOf(ex, &dec)
		if err != nil {
			dec.Err = err
			dec.deny(ReasonTierFailed)
		}
		dec.Payload = payload
	}
	return dec
}
