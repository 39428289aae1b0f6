package ca

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
)

// KeyID returns the key id of an Ed25519 public key: the RFC 7638 JWK thumbprint (SHA-256 over
// {"crv":"Ed25519","kty":"OKP","x":...}, RFC 8037), base64url without padding. Anyone holding the
// CA certificate can recompute it.
func KeyID(pub ed25519.PublicKey) string {
	jwk := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(jwk))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
