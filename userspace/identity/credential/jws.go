package credential

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Limits on what a verifier reads before it knows who signed it.
const (
	maxCredentialLen   = 4096
	maxPresentationLen = maxCredentialLen + 512
	maxHeaderLen       = 256
)

// Header values of every credential.
const (
	algEdDSA       = "EdDSA" // RFC 8037
	typeCredential = "JWT"
)

// b64 is base64url without padding, strict: a non-zero trailing bit is refused, so each byte
// string has exactly one encoding and an accepted token is byte-for-byte what was signed.
var b64 = base64.RawURLEncoding.Strict()

type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
}

// encodeHeader returns the base64url JWS header for kid.
func encodeHeader(kid string) (string, error) {
	h, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{algEdDSA, kid, typeCredential})
	if err != nil {
		return "", fmt.Errorf("encode JWS header: %w", err)
	}
	return b64.EncodeToString(h), nil
}

// splitJWS splits a compact JWS into its three parts.
func splitJWS(token string) (header, payload, sig string, err error) {
	if len(token) > maxCredentialLen {
		return "", "", "", fmt.Errorf("longer than %d bytes", maxCredentialLen)
	}
	header, rest, ok1 := strings.Cut(token, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return "", "", "", errors.New("not a compact JWS (three dot-separated parts)")
	}
	return header, payload, sig, nil
}

// decodeHeader returns the kid of an EdDSA credential header, refusing any other algorithm,
// type, or critical extension.
func decodeHeader(s string) (string, error) {
	if len(s) > maxHeaderLen {
		return "", errors.New("header too long")
	}
	raw, err := b64.DecodeString(s)
	if err != nil {
		return "", errors.New("header is not base64url")
	}
	var h jwsHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", errors.New("header is not a JSON object")
	}
	switch {
	case h.Alg != algEdDSA:
		return "", fmt.Errorf("alg %q, want %s", h.Alg, algEdDSA)
	case h.Typ != typeCredential:
		return "", fmt.Errorf("typ %q, want %s", h.Typ, typeCredential)
	case h.Crit != nil:
		return "", errors.New("crit extensions are not understood")
	case h.Kid == "":
		return "", errors.New("no kid")
	}
	return h.Kid, nil
}

// verifySignature checks sig (base64url) over header.payload with pub.
func verifySignature(pub ed25519.PublicKey, header, payload, sig string) bool {
	raw, err := b64.DecodeString(sig)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return false
	}
	msg := make([]byte, 0, len(header)+1+len(payload))
	msg = append(append(append(msg, header...), '.'), payload...)
	return ed25519.Verify(pub, msg, raw)
}

// newJTI returns 128 random bits, base64url: 22 characters.
func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead)
	return b64.EncodeToString(b[:])
}

// validJTI reports whether s is 22 base64url characters encoding 16 bytes.
func validJTI(s string) bool {
	_, ok := decodeJTI(s)
	return ok
}

func decodeJTI(s string) ([16]byte, bool) {
	var out [16]byte
	if len(s) != 22 {
		return out, false
	}
	n, err := b64.Decode(out[:], []byte(s))
	return out, err == nil && n == 16
}
