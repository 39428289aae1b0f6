package pep

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/meshwarden/meshwarden/userspace/classify"
	"github.com/meshwarden/meshwarden/userspace/scrub"
)

// Decide decides one exchange. The checks run in the order of validateExchange, each failure
// adding its own reason:
//
//  1. no_policy: the first domain in file order whose match selects the request, else
//     default_domain; with neither, nothing else is checked;
//  2. body_too_large: BodySize over the domain's max_body_bytes;
//  3. credential_missing / credential_expired;
//  4. role_not_allowed;
//  5. attestation_missing / attestation_mismatch, when the domain requires attestation;
//  6. classification_block: the body is classified (and redacted) with the domain's
//     sensitive_fields and detectors.
//
// Then, when metadata_masking is on, headers and metadata objects are scrubbed; then the
// tier: tier_unavailable when no protector serves it, and, for an exchange still allowed,
// the payload is encoded and protected (tier_failed when that fails).
//
// Headers and Body of ex are changed in place.
func (e *Engine) Decide(ctx context.Context, ex *Exchange) Decision {
	i, ok := e.policy.DomainIndex(ex.request())
	if !ok {
		return Decision{Verdict: Deny, Reasons: []Reason{ReasonNoPolicy}, Body: ex.Body}
	}
	d := &e.domains[i]
	dec := Decision{Domain: d.policy.Name, Tier: d.policy.Tier, Verdict: Allow, Policy: d.policy, Body: ex.Body}
	if ex.BodySize > d.policy.BodyLimit() {
		dec.deny(ReasonBodyTooLarge)
	}
	now := ex.Now
	if now.IsZero() {
		now = e.now()
	}
	if r := ex.Source.credential(now, d.maxAge); r != "" {
		dec.deny(r)
	}
	if !d.roles[ex.Source.Role] {
		dec.deny(ReasonRoleNotAllowed)
	}
	if d.policy.AttestationRequired {
		if r := ex.Source.attestation(); r != "" {
			dec.deny(r)
		}
	}
	e.resolve(d, &ex.Lazy, ex.MetadataPaths, ex.ClientInfoPaths, &dec)
	e.classifyBody(d, &dec)
	if d.policy.MetadataMasking {
		e.scrub(d, ex, &dec)
	}
	e.protect(ctx, d, ex, &dec)
	return dec
}

// classifyBody redacts dec.Body with the domain's classifier and denies on a block finding.
func (e *Engine) classifyBody(d *domain, dec *Decision) {
	if dec.Body == nil || d.classifier.Empty() {
		return
	}
	body, findings := d.classifier.Redact(dec.Body)
	dec.Body, dec.Findings, dec.Redactions = body, findings, redactions(findings)
	dec.BodyChanged = dec.BodyChanged || len(dec.Redactions) > 0
	if classify.Blocked(findings) {
		dec.deny(ReasonClassificationBlock)
	}
}

// scrub removes topology and identity from the headers and the body's metadata objects.
func (e *Engine) scrub(d *domain, ex *Exchange, dec *Decision) {
	if ex.Headers != nil {
		dec.Scrubbed.Add(scrub.Headers(ex.Headers))
	}
	if dec.Body == nil {
		return
	}
	var body scrub.Summary
	for _, p := range orDefault(ex.MetadataPaths, scrub.MetadataPaths) {
		body.Add(d.metadata.CleanAt(dec.Body, p...))
	}
	for _, p := range orDefault(ex.ClientInfoPaths, scrub.ClientInfoPaths) {
		body.Add(scrub.ClientInfoAt(dec.Body, p...))
	}
	dec.BodyChanged = dec.BodyChanged || !body.Empty()
	dec.Scrubbed.Add(body)
}

func orDefault(paths [][]string, def func() [][]string) [][]string {
	if paths == nil {
		return def()
	}
	return paths
}

// protect applies the domain's tier to the payload.
func (e *Engine) protect(ctx context.Context, d *domain, ex *Exchange, dec *Decision) {
	p, ok := e.protectors[d.policy.Tier]
	if !ok {
		dec.deny(ReasonTierUnavailable)
		return
	}
	if dec.Verdict != Allow {
		return
	}
	payload, err := payloadOf(ex, dec)
	if err != nil {
		dec.Err = err
		dec.deny(ReasonTierFailed)
		return
	}
	if payload == nil {
		return
	}
	out, err := p.Protect(ctx, d.policy.Tier, payload)
	if err != nil {
		dec.Err = fmt.Errorf("protect payload for tier %s of domain %s: %w", d.policy.Tier, d.policy.Name, err)
		dec.deny(ReasonTierFailed)
		return
	}
	dec.Payload = out
}

// payloadOf returns the bytes to forward: Raw when the body did not change (or was not
// decoded), else the body encoded again.
func payloadOf(ex *Exchange, dec *Decision) ([]byte, error) {
	if !dec.BodyChanged && (ex.Raw != nil || dec.Body == nil) {
		return ex.Raw, nil
	}
	if ex.Text {
		s, ok := dec.Body.(string)
		if !ok {
			return nil, fmt.Errorf("text body of type %T", dec.Body)
		}
		return []byte(s), nil
	}
	return encodeJSON(dec.Body)
}

// encodeJSON encodes v without HTML escaping and without the encoder's trailing newline.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
