package credential

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/ca"
	"github.com/meshwarden/meshwarden/userspace/identity/clock"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// SignerSource gives the CA signer of the moment; *ca.Authority is one.
type SignerSource interface {
	Signer() (*ca.Signer, error)
}

// IssuerConfig describes the issuing node.
type IssuerConfig struct {
	Signers SignerSource
	Node    spiffeid.ID // this node's id: the credentials' iss
	// Audience is every credential's aud; the trust domain's id (spiffe://<td>) when empty,
	// meaning any enforcer of the mesh.
	Audience []string
	Clock    clock.Clock
}

// Spec is what one credential is issued for.
type Spec struct {
	Agent       spiffeid.ID   // the agent's SPIFFE id
	Role        string        // the agent's role
	Zone        string        // the agent's trust zone
	Measurement string        // sha256:<hex> of the agent's executable, or ""
	Lifetime    time.Duration // see Lifetime
}

// Issuer signs credentials for the agents of one node.
type Issuer struct {
	signers  SignerSource
	node     spiffeid.ID
	nodeName string
	audience []string
	clock    clock.Clock
}

// NewIssuer returns the issuer of cfg.
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	name, ok := cfg.Node.Node()
	if !ok {
		return nil, fmt.Errorf("credential issuer: %q is not a node id", cfg.Node)
	}
	if cfg.Signers == nil {
		return nil, errors.New("credential issuer: no signer source")
	}
	aud := cfg.Audience
	if len(aud) == 0 {
		aud = []string{cfg.Node.TrustDomain().ID().String()}
	}
	return &Issuer{signers: cfg.Signers, node: cfg.Node, nodeName: name, audience: aud, clock: clock.OrReal(cfg.Clock)}, nil
}

// Issue signs a credential for spec, valid from now for spec.Lifetime but never past the
// signing CA's NotAfter.
func (is *Issuer) Issue(ctx context.Context, spec Spec) (*Credential, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch {
	case spec.Agent.Kind() != spiffeid.KindAgent || spec.Agent.TrustDomain() != is.node.TrustDomain():
		return nil, fmt.Errorf("issue credential: %q is not an agent id of trust domain %s", spec.Agent, is.node.TrustDomain())
	case spec.Role == "":
		return nil, fmt.Errorf("issue credential for %s: no role", spec.Agent)
	case spec.Lifetime <= 0:
		return nil, fmt.Errorf("issue credential for %s: lifetime %v", spec.Agent, spec.Lifetime)
	case spec.Measurement != "" && !validMeasurement(spec.Measurement):
		return nil, fmt.Errorf("issue credential for %s: measurement is not sha256:<hex>", spec.Agent)
	}
	signer, err := is.signers.Signer()
	if err != nil {
		return nil, fmt.Errorf("issue credential for %s: %w", spec.Agent, err)
	}
	now := is.clock.Now().Truncate(time.Millisecond)
	exp := now.Add(spec.Lifetime)
	if na := signer.NotAfter().Truncate(time.Millisecond); na.Before(exp) {
		exp = na
	}
	if !exp.After(now) {
		return nil, fmt.Errorf("issue credential for %s: CA %s expires now", spec.Agent, signer.KeyID())
	}
	c := &Claims{
		Issuer: is.node, Subject: spec.Agent, Audience: is.audience,
		IssuedAt: now, NotBefore: now, Expiry: exp, ID: newJTI(),
		Role: spec.Role, Zone: spec.Zone, Node: is.nodeName, Measurement: spec.Measurement, KeyID: signer.KeyID(),
	}
	header, err := encodeHeader(signer.KeyID())
	if err != nil {
		return nil, err
	}
	payload, err := encodeClaims(c)
	if err != nil {
		return nil, err
	}
	signingInput := header + "." + b64.EncodeToString(payload)
	token := signingInput + "." + b64.EncodeToString(signer.Sign([]byte(signingInput)))
	return newCredential(token, c), nil
}

// Lifetime is the credential lifetime the policy asks for: the smallest positive
// max_token_age of the domains the agent reaches, else the global credential rotation
// interval.
func Lifetime(globalRotationInterval time.Duration, domainMaxTokenAges ...time.Duration) time.Duration {
	l := time.Duration(0)
	for _, d := range domainMaxTokenAges {
		if d > 0 && (l == 0 || d < l) {
			l = d
		}
	}
	if l == 0 {
		l = globalRotationInterval
	}
	return l
}
