package credential

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// Claims are what a credential says about its agent.
type Claims struct {
	Issuer      spiffeid.ID // iss: the issuing node enforcer, spiffe://<td>/node/<node>
	Subject     spiffeid.ID // sub: the agent, spiffe://<td>/ns/<namespace>/agent/<id>
	Audience    []string    // aud: who may accept it; by default the trust domain's id (any enforcer of the mesh)
	IssuedAt    time.Time   // iat
	NotBefore   time.Time   // nbf
	Expiry      time.Time   // exp
	ID          string      // jti: unique per credential, for audit and for linking
	Role        string      // the agent's role
	Zone        string      // the agent's trust zone
	Node        string      // the issuing node's name (the last segment of Issuer)
	Measurement string      // att: sha256:<hex> of the agent's executable, "" when not measured
	KeyID       string      // kid of the CA key that signed it (from the JWS header)
}

// Lifetime returns Expiry - IssuedAt.
func (c *Claims) Lifetime() time.Duration { return c.Expiry.Sub(c.IssuedAt) }

// Age returns how old the credential is at now; a PEP may refuse one older than a domain's
// max_token_age even within its validity.
func (c *Claims) Age(now time.Time) time.Duration { return now.Sub(c.IssuedAt) }

// wireClaims is the JSON payload of a credential.
type wireClaims struct {
	Iss  string      `json:"iss"`
	Sub  string      `json:"sub"`
	Aud  audience    `json:"aud"`
	Iat  numericDate `json:"iat"`
	Nbf  numericDate `json:"nbf"`
	Exp  numericDate `json:"exp"`
	Jti  string      `json:"jti"`
	Role string      `json:"role"`
	Zone string      `json:"zone"`
	Node string      `json:"node"`
	Att  string      `json:"att,omitempty"`
}

// audience is the aud claim: RFC 7519 allows a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud: want a string or an array of strings")
	}
	*a = many
	return nil
}

func encodeClaims(c *Claims) ([]byte, error) {
	w := wireClaims{
		Iss: c.Issuer.String(), Sub: c.Subject.String(), Aud: c.Audience,
		Iat: numericDate{c.IssuedAt}, Nbf: numericDate{c.NotBefore}, Exp: numericDate{c.Expiry},
		Jti: c.ID, Role: c.Role, Zone: c.Zone, Node: c.Node, Att: c.Measurement,
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode claims: %w", err)
	}
	return b, nil
}

// decodeClaims parses and checks the shape of a payload: every claim present and consistent.
// It does not check times, audience or revocation.
func decodeClaims(b []byte, td spiffeid.TrustDomain) (*Claims, error) {
	var w wireClaims
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	iss, err := spiffeid.Parse(w.Iss)
	if err != nil {
		return nil, fmt.Errorf("iss: %w", err)
	}
	sub, err := spiffeid.Parse(w.Sub)
	if err != nil {
		return nil, fmt.Errorf("sub: %w", err)
	}
	node, ok := iss.Node()
	switch {
	case !ok:
		return nil, fmt.Errorf("iss %s is not a node id", iss)
	case sub.Kind() != spiffeid.KindAgent:
		return nil, fmt.Errorf("sub %s is not an agent id", sub)
	case iss.TrustDomain() != td || sub.TrustDomain() != td:
		return nil, fmt.Errorf("iss/sub outside trust domain %s", td)
	case w.Node != node:
		return nil, fmt.Errorf("node %q does not match iss %s", w.Node, iss)
	case len(w.Aud) == 0:
		return nil, errors.New("no aud")
	case w.Iat.IsZero() || w.Nbf.IsZero() || w.Exp.IsZero():
		return nil, errors.New("iat, nbf and exp are required")
	case !w.Exp.After(w.Nbf.Time):
		return nil, errors.New("exp is not after nbf")
	case !validJTI(w.Jti):
		return nil, errors.New("jti: want 22 base64url characters")
	case w.Role == "":
		return nil, errors.New("no role")
	case w.Att != "" && !validMeasurement(w.Att):
		return nil, errors.New("att: want sha256:<64 hex digits>")
	}
	return &Claims{
		Issuer: iss, Subject: sub, Audience: w.Aud,
		IssuedAt: w.Iat.Time, NotBefore: w.Nbf.Time, Expiry: w.Exp.Time,
		ID: w.Jti, Role: w.Role, Zone: w.Zone, Node: w.Node, Measurement: w.Att,
	}, nil
}

// validMeasurement reports whether s is sha256:<64 lower-case hex digits>.
func validMeasurement(s string) bool {
	const p = "sha256:"
	if len(s) != len(p)+64 || s[:len(p)] != p {
		return false
	}
	for i := len(p); i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
