package credential

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/ca"
	"github.com/meshwarden/meshwarden/userspace/identity/clock"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// Defaults of VerifierConfig.
const (
	DefaultClockSkew          = 2 * time.Second
	DefaultPresentationWindow = 10 * time.Second
)

// VerifierConfig describes the receiving enforcer.
type VerifierConfig struct {
	Bundle ca.Source   // trusted CA keys; asked on every verification
	Self   spiffeid.ID // this node's id: presentations must be addressed to it
	// Audience is what a credential's aud must contain; the trust domain's id when empty.
	Audience string
	// ClockSkew is how far exp, nbf and a presentation's iat may be off; DefaultClockSkew when
	// zero, none when negative.
	ClockSkew time.Duration
	// PresentationWindow is how long after its iat a presentation is accepted (plus skew);
	// DefaultPresentationWindow when zero.
	PresentationWindow time.Duration
	Revocations        *Revocations // nil: none revoked
	ReplayCapacity     int          // DefaultReplayCapacity when zero
	CacheCapacity      int          // DefaultVerifiedCapacity when zero
	Clock              clock.Clock
}

// Verifier checks presentations on the receiving side of the tunnel. It is safe for concurrent
// use.
type Verifier struct {
	bundle   ca.Source
	self     spiffeid.ID
	td       spiffeid.TrustDomain
	audience string
	skew     time.Duration
	window   time.Duration
	revoked  *Revocations
	replay   *ReplayCache
	cache    *verifiedCache
	clock    clock.Clock
}

// Verified is what an accepted presentation establishes.
type Verified struct {
	Claims         Claims    // the credential's claims
	PresentationID string    // the request's one-time id
	ExchangeID     string    // the sender's exchange id, for linking audit records
	Measurement    string    // the measurement of the process that made the request (Request.Measurement), "" when not given
	PresentedAt    time.Time // the presentation's iat
}

// NewVerifier returns the verifier of cfg.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.Bundle == nil {
		return nil, errors.New("credential verifier: no bundle")
	}
	if cfg.Self.Kind() != spiffeid.KindNode {
		return nil, fmt.Errorf("credential verifier: self %q is not a node id", cfg.Self)
	}
	v := &Verifier{
		bundle:   cfg.Bundle,
		self:     cfg.Self,
		td:       cfg.Self.TrustDomain(),
		audience: cfg.Audience,
		skew:     cfg.ClockSkew,
		window:   cfg.PresentationWindow,
		revoked:  cfg.Revocations,
		replay:   NewReplayCache(cfg.ReplayCapacity),
		cache:    newVerifiedCache(cfg.CacheCapacity),
		clock:    clock.OrReal(cfg.Clock),
	}
	switch {
	case v.skew == 0:
		v.skew = DefaultClockSkew
	case v.skew < 0:
		v.skew = 0
	}
	if v.window <= 0 {
		v.window = DefaultPresentationWindow
	}
	if v.audience == "" {
		v.audience = v.td.ID().String()
	}
	if v.revoked == nil {
		v.revoked = NewRevocations()
	}
	return v, nil
}

// Verify checks one request's presentation, received over the tunnel connection of binding b
// from the node peer (as authenticated by mutual TLS). Every refusal is an *Error.
func (v *Verifier) Verify(presentation string, b Binding, peer spiffeid.ID) (*Verified, error) {
	now := v.clock.Now()
	if len(presentation) > maxPresentationLen {
		return nil, refuse(ReasonMalformed, "presentation longer than %d bytes", maxPresentationLen)
	}
	token, rest, ok1 := strings.Cut(presentation, "~")
	reqB64, macB64, ok2 := strings.Cut(rest, "~")
	if !ok1 || !ok2 || strings.Contains(macB64, "~") {
		return nil, refuse(ReasonMalformed, "presentation is not credential~request~mac")
	}
	digest := sha256.Sum256([]byte(token))
	claims, err := v.verifyCredential(token, &digest, peer, now)
	if err != nil {
		return nil, err
	}
	if b.IsZero() {
		return nil, refuse(ReasonBadSignature, "no connection binding to check the presentation against")
	}
	mac, err := b64.DecodeString(macB64)
	if err != nil || len(mac) != sha256.Size {
		return nil, refuse(ReasonMalformed, "presentation MAC is not 32 base64url bytes")
	}
	if len(reqB64) > 768 {
		return nil, refuse(ReasonMalformed, "presentation request part too long")
	}
	if !hmac.Equal(mac, b.mac(&digest, reqB64)) {
		return nil, refuse(ReasonBadSignature, "presentation MAC does not verify on this connection")
	}
	raw, err := b64.DecodeString(reqB64)
	if err != nil {
		return nil, refuse(ReasonMalformed, "presentation request part is not base64url")
	}
	var req requestPart
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, refuse(ReasonMalformed, "presentation request part: %v", err)
	}
	jti, ok := decodeJTI(req.Jti)
	if !ok || req.Iat <= 0 || validExchangeID(req.Xid) != nil || (req.Att != "" && !validMeasurement(req.Att)) {
		return nil, refuse(ReasonMalformed, "presentation request part lacks a valid jti, iat, xid or att")
	}
	if req.Aud != v.self.String() {
		return nil, refuse(ReasonWrongAudience, "presentation is for %q, this node is %s", req.Aud, v.self)
	}
	iat := time.UnixMilli(req.Iat)
	until := iat.Add(v.window + v.skew)
	switch {
	case now.Before(iat.Add(-v.skew)):
		return nil, refuse(ReasonNotYetValid, "presentation made at %s, ahead of %s", iat.UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
	case now.After(until):
		return nil, refuse(ReasonExpired, "presentation made at %s is older than %v", iat.UTC().Format(time.RFC3339Nano), v.window)
	}
	if !v.replay.Add(jti, until, now) {
		return nil, refuse(ReasonReplayed, "presentation %s was already used", req.Jti)
	}
	return &Verified{Claims: *claims, PresentationID: req.Jti, ExchangeID: req.Xid, Measurement: req.Att, PresentedAt: iat}, nil
}

// VerifyCredential checks a bare credential token as Verify checks the credential inside a
// presentation (no replay check: a credential is reused by design). peer may be the zero ID to
// skip the node check.
func (v *Verifier) VerifyCredential(token string, peer spiffeid.ID) (*Claims, error) {
	digest := sha256.Sum256([]byte(token))
	c, err := v.verifyCredential(token, &digest, peer, v.clock.Now())
	if err != nil {
		return nil, err
	}
	out := *c
	return &out, nil
}

func (v *Verifier) verifyCredential(token string, digest *[32]byte, peer spiffeid.ID, now time.Time) (*Claims, error) {
	bundle := v.bundle.Bundle()
	claims, cached := v.cache.get(digest)
	if cached {
		if _, ok := bundle.Key(claims.KeyID, now); !ok {
			return nil, refuse(ReasonUnknownKey, "kid %s is no longer trusted", claims.KeyID)
		}
	} else {
		var err error
		if claims, err = v.verifySigned(token, bundle, now); err != nil {
			return nil, err
		}
	}
	switch {
	case now.After(claims.Expiry.Add(v.skew)):
		return nil, refuse(ReasonExpired, "credential %s of %s expired at %s", claims.ID, claims.Subject, claims.Expiry.UTC().Format(time.RFC3339Nano))
	case now.Before(claims.NotBefore.Add(-v.skew)):
		return nil, refuse(ReasonNotYetValid, "credential %s of %s is valid from %s", claims.ID, claims.Subject, claims.NotBefore.UTC().Format(time.RFC3339Nano))
	case !slices.Contains(claims.Audience, v.audience):
		return nil, refuse(ReasonWrongAudience, "credential %s is for %q, not %q", claims.ID, claims.Audience, v.audience)
	case v.revoked.IsRevoked(claims.Subject):
		return nil, refuse(ReasonRevoked, "agent %s is revoked", claims.Subject)
	case !peer.IsZero() && claims.Issuer != peer:
		return nil, refuse(ReasonWrongNode, "credential %s was issued by %s but presented by %s", claims.ID, claims.Issuer, peer)
	}
	if !cached {
		v.cache.put(digest, claims, now, v.skew)
	}
	return claims, nil
}

// verifySigned parses token, finds its key in bundle and checks the signature, then the
// claims' shape.
func (v *Verifier) verifySigned(token string, bundle *ca.Bundle, now time.Time) (*Claims, error) {
	h, p, s, err := splitJWS(token)
	if err != nil {
		return nil, refuse(ReasonMalformed, "credential: %v", err)
	}
	kid, err := decodeHeader(h)
	if err != nil {
		return nil, refuse(ReasonMalformed, "credential header: %v", err)
	}
	pub, ok := bundle.Key(kid, now)
	if !ok {
		return nil, refuse(ReasonUnknownKey, "kid %q is not a CA of the trust bundle valid now", kid)
	}
	if !verifySignature(pub, h, p, s) {
		return nil, refuse(ReasonBadSignature, "credential signature does not verify with kid %s", kid)
	}
	payload, err := b64.DecodeString(p)
	if err != nil {
		return nil, refuse(ReasonMalformed, "credential payload is not base64url")
	}
	claims, err := decodeClaims(payload, v.td)
	if err != nil {
		return nil, refuse(ReasonMalformed, "credential %v", err)
	}
	claims.KeyID = kid
	return claims, nil
}
