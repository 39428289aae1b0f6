// Package credential issues, rotates, presents and verifies the per-agent credentials that the
// node enforcers carry for their agents across the node-to-node tunnel.
//
// # Credential
//
// A credential is a compact JWS (JWT) signed with EdDSA (Ed25519) by the mesh CA's active key;
// its header's kid is the CA key id (RFC 7638 thumbprint), so a verifier finds the key in the
// trust bundle, old and new during a CA rotation. Claims: iss (the issuing node's SPIFFE id), sub
// (the agent's SPIFFE id), aud, iat, nbf, exp, jti, role, zone, node and att (the agent's
// attestation measurement, sha256:<hex>). Its lifetime is the policy's (see [Lifetime]) and a
// [Rotator] re-issues it at two thirds of that lifetime, in the background, so [Rotator.Current]
// always has at least a third of a lifetime left to give.
//
// # Presentation
//
// A credential is reused for many requests, so its own jti cannot go in a replay cache. Each
// request therefore carries a [Presentation]: the credential, a one-time request part (its own
// jti, iat in milliseconds, the receiving node's id as audience, the exchange id) and an
// HMAC-SHA256 over the credential's digest and the request part, keyed by a [Binding] exported
// from the tunnel connection's TLS session (RFC 5705/8446 exporter, as RFC 9266 channel bindings
// do). A presentation, or a credential lifted from one, is worthless on any other connection,
// and the receiver's replay cache refuses the same request jti twice within its validity window.
// Presenting costs one HMAC, not a signature; verifying costs one Ed25519 verification per
// credential per receiver (the result is cached until the credential expires) and one HMAC per
// request.
//
// # Verification
//
// [Verifier.Verify] checks, in order: shape, key id in the bundle, signature, claims, expiry and
// not-before (with a clock-skew allowance), audience, revocation, that the issuing node is the
// tunnel peer, then the presentation's MAC, audience, freshness and replay. Every refusal is an
// [*Error] with one of the Reason constants.
package credential
