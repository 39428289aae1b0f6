package proxy

import (
	"errors"
	"net/http"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/pep"
)

// reasonPayloadSealFailed refuses an exchange of a domain with audit_payloads whose payload could
// not be sealed to the audit payload key (503): it is never relayed unaudited.
const reasonPayloadSealFailed = "payload_seal_failed"

var errNoPayloadKey = errors.New("the domain audits payloads and no audit payload key is configured (meshwarden run --audit-payload-key)")

// inspects reports whether the enforcer must read and understand a domain's payloads before it
// relays them: its policy needs inspection (pep.NeedsInspection), or its payloads go to the audit
// log (audit_payloads), which only holds what the enforcer read whole or event by event. So a
// tunnel, an opaque stream or a compressed or binary response body is refused in such a domain.
func inspects(d *policy.Domain) bool {
	return pep.NeedsInspection(d) || d.AuditPayloads
}

// sealsPayloads reports whether the exchange's domain puts its payloads, sealed, in the audit log.
func (t *txn) sealsPayloads() bool {
	return t.domain != nil && t.domain.AuditPayloads
}

// Sealed payloads (domains with audit_payloads). What is sealed is what went on: the request
// payload as forwarded (t.payload, after redaction, scrubbing and identifier swapping) and the
// response payload as relayed to the client (t.respPayload), never the bytes as received; those
// only have their digest in payload_sha256. A sealed payload is bound to the id of the record
// that carries it, so the id is reserved (t.recordID) when the first payload is sealed, before
// the request goes, and the exchange's next record takes it (sealInto).

// sealPayloads seals the payloads kept and not sealed yet: the request payload about to be
// forwarded, or the events of a stream relayed. It returns the refusal to answer with when they
// cannot be sealed.
func (t *txn) sealPayloads() *reply {
	if !t.sealsPayloads() {
		return nil
	}
	return t.sealOrRefuse()
}

// sealResponse seals the response payload relayed (or about to be) to the client. It returns the
// refusal to answer with when it cannot be sealed.
func (t *txn) sealResponse(payload []byte) *reply {
	if !t.sealsPayloads() {
		return nil
	}
	t.respPayload = append(payload[:0:0], payload...)
	return t.sealOrRefuse()
}

func (t *txn) sealOrRefuse() *reply {
	if err := t.seal(); err != nil {
		// What could not be sealed is not relayed, and not tried again for the refusal's record.
		if t.sealedReq == nil {
			t.payload = nil
		}
		if t.sealedResp == nil {
			t.respPayload = nil
		}
		r := t.policyRefusal(reasonPayloadSealFailed, err.Error(), http.StatusServiceUnavailable)
		return &r
	}
	return nil
}

// seal seals, for the reserved record id (reserving one when none is), the payloads the
// exchange has and has not sealed yet.
func (t *txn) seal() error {
	sealer := t.c.srv.cfg.PayloadSealer
	if sealer == nil {
		return errNoPayloadKey
	}
	if t.recordID == "" {
		t.recordID, t.sealedReq, t.sealedResp = audit.NewID(), nil, nil
	}
	var err error
	if t.sealedReq == nil && t.payload != nil {
		if t.sealedReq, err = sealer.Seal(t.payload, t.recordID, t.id, audit.PartRequest); err != nil {
			return err
		}
	}
	if t.sealedResp == nil && t.respPayload != nil {
		if t.sealedResp, err = sealer.Seal(t.respPayload, t.recordID, t.id, audit.PartResponse); err != nil {
			return err
		}
	}
	return nil
}

// sealInto gives r the exchange's sealed payloads and the record id they are bound to, which
// is then used up: a later record of the exchange (the exchange record after an
// audit_before_forward decision record) gets its payloads sealed afresh for its own id.
func (t *txn) sealInto(r *audit.Record) {
	if !t.sealsPayloads() || t.recordID == "" && t.payload == nil && t.respPayload == nil {
		return
	}
	if err := t.seal(); err != nil {
		// Only a record written after its payload went on gets here (the first sealing of each
		// payload happens before it is relayed, and refuses it on failure).
		t.c.srv.log.Error("proxy: audit payload not sealed", "err", err, "exchange", t.id)
		r.ReasonCodes = append(r.ReasonCodes, reasonPayloadSealFailed)
		t.recordID = ""
		return
	}
	r.ID, r.PayloadSealed, r.ResponseSealed = t.recordID, t.sealedReq, t.sealedResp
	t.recordID, t.sealedReq, t.sealedResp = "", nil, nil
}

// keepRelayedEvent keeps an event relayed to the client for the response payload of a domain
// with audit_payloads. It returns the refusal that ends the stream once the events kept exceed
// the domain's body limit: the enforcer keeps no more of a stream than of a whole body.
func (t *txn) keepRelayedEvent(ev []byte) *reply {
	if !t.sealsPayloads() {
		return nil
	}
	t.respPayload = append(t.respPayload, ev...)
	if int64(len(t.respPayload)) > t.domain.BodyLimit() {
		r := t.eventRefusal(nil, nil, reasonBodyTooLarge)
		return &r
	}
	return nil
}
