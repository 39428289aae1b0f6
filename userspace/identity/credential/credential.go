package credential

import (
	"crypto/sha256"
	"fmt"
	"log/slog"
)

// Credential is one issued credential: the signed token and what it says. The token is a bearer
// secret of the enforcer: String, Format and LogValue print the claims' public facts only.
type Credential struct {
	token  string
	claims Claims
	digest [32]byte // sha256 of token: the key of the verifier's cache and what presentations MAC
}

func newCredential(token string, c *Claims) *Credential {
	return &Credential{token: token, claims: *c, digest: sha256.Sum256([]byte(token))}
}

// Claims returns the credential's claims.
func (c *Credential) Claims() Claims { return c.claims }

// Token returns the compact JWS. Send it only inside the tunnel; never log it.
func (c *Credential) Token() string { return c.token }

// String prints the credential's id, subject and validity, not the token.
func (c Credential) String() string {
	return fmt.Sprintf("credential %s for %s (kid %s, valid %s to %s)", c.claims.ID, c.claims.Subject, c.claims.KeyID,
		c.claims.NotBefore.UTC().Format("15:04:05.000"), c.claims.Expiry.UTC().Format("15:04:05.000"))
}

// Format prints the credential as String does, whatever the verb.
func (c Credential) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, c.String()) }

// LogValue keeps a credential in a log line down to its public facts.
func (c Credential) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("jti", c.claims.ID),
		slog.String("sub", c.claims.Subject.String()),
		slog.String("kid", c.claims.KeyID),
		slog.Time("exp", c.claims.Expiry),
	)
}
