package credential

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/clock"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

func TestIssuedCredentialVerifiesWithEveryClaim(t *testing.T) {
	m := newMesh(t, 0)
	c := m.issue(t)
	got, err := m.verifier.Verify(m.present(t, c), m.binding, nodeA)
	if err != nil {
		t.Fatal(err)
	}
	cl := got.Claims
	switch {
	case cl.Subject != agent, cl.Issuer != nodeA, cl.Node != "node-a", cl.Role != "planner", cl.Zone != "internal",
		cl.Measurement != meas, cl.KeyID != m.auth.ActiveKeyID(), cl.ID == "", cl.ID != c.Claims().ID,
		!cl.IssuedAt.Equal(t0), !cl.NotBefore.Equal(t0), !cl.Expiry.Equal(t0.Add(5 * time.Minute)),
		len(cl.Audience) != 1 || cl.Audience[0] != "spiffe://mesh.test":
		t.Fatalf("claims %+v", cl)
	}
	if got.ExchangeID != "x-1" || got.PresentationID == "" || !got.PresentedAt.Equal(t0) {
		t.Fatalf("presentation %+v", got)
	}
	// The token is a standard compact JWS: header {"alg":"EdDSA","kid":<CA kid>,"typ":"JWT"}.
	hdr, _ := b64.DecodeString(strings.Split(c.Token(), ".")[0])
	var h map[string]string
	if err := json.Unmarshal(hdr, &h); err != nil || h["alg"] != "EdDSA" || h["kid"] != m.auth.ActiveKeyID() || h["typ"] != "JWT" {
		t.Fatalf("header %s (%v)", hdr, err)
	}
	if claims, err := m.verifier.VerifyCredential(c.Token(), nodeA); err != nil || claims.ID != c.Claims().ID {
		t.Fatalf("VerifyCredential: %v", err)
	}
}

func TestEveryRefusalHasItsOwnReason(t *testing.T) {
	m := newMesh(t, 0)
	otherCA := newMesh(t, 0) // another mesh CA with the same trust domain
	good := m.issue(t)

	forge := func(mutate func(*Claims)) string { // re-sign changed claims with the right CA key
		s, err := m.auth.Signer()
		if err != nil {
			t.Fatal(err)
		}
		cl := good.Claims()
		mutate(&cl)
		h, _ := encodeHeader(s.KeyID())
		p, _ := encodeClaims(&cl)
		in := h + "." + b64.EncodeToString(p)
		c := newCredential(in+"."+b64.EncodeToString(s.Sign([]byte(in))), &cl)
		return m.present(t, c)
	}
	tamper := func(p string) string { // flip a claim without re-signing
		parts := strings.SplitN(p, ".", 3)
		payload, _ := b64.DecodeString(parts[1])
		payload = []byte(strings.Replace(string(payload), `"role":"planner"`, `"role":"admin"`, 1))
		return parts[0] + "." + b64.EncodeToString(payload) + "." + parts[2]
	}
	presentWith := func(c *Credential, at time.Time, b Binding, aud spiffeid.ID) string {
		p, err := c.Present(at, b, aud, Request{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Value()
	}
	replayed := m.present(t, good)
	if _, err := m.verifier.Verify(replayed, m.binding, nodeA); err != nil {
		t.Fatal(err)
	}
	revokedAgent := spiffeid.MustParse("spiffe://mesh.test/ns/local/agent/revoked")
	m.revoked.Revoke(revokedAgent)

	cases := []struct {
		name string
		p    string
		b    Binding
		peer spiffeid.ID
		want Reason
	}{
		{"expired credential", forge(func(c *Claims) {
			c.IssuedAt, c.NotBefore, c.Expiry = t0.Add(-time.Hour), t0.Add(-time.Hour), t0.Add(-time.Minute)
		}), m.binding, nodeA, ReasonExpired},
		{"stale presentation", presentWith(good, t0.Add(-time.Minute), m.binding, nodeB), m.binding, nodeA, ReasonExpired},
		{"credential not yet valid", forge(func(c *Claims) { c.NotBefore = t0.Add(time.Minute) }), m.binding, nodeA, ReasonNotYetValid},
		{"presentation from the future", presentWith(good, t0.Add(time.Minute), m.binding, nodeB), m.binding, nodeA, ReasonNotYetValid},
		{"tampered claims", tamper(m.present(t, good)), m.binding, nodeA, ReasonBadSignature},
		{"presentation on another connection", m.present(t, good), randomBinding(t), nodeA, ReasonBadSignature},
		{"signed by another CA", otherCA.present(t, otherCA.issue(t)), m.binding, nodeA, ReasonUnknownKey},
		{"replayed presentation", replayed, m.binding, nodeA, ReasonReplayed},
		{"revoked agent", forge(func(c *Claims) { c.Subject = revokedAgent }), m.binding, nodeA, ReasonRevoked},
		{"credential for another mesh", forge(func(c *Claims) { c.Audience = []string{"spiffe://other.test"} }), m.binding, nodeA, ReasonWrongAudience},
		{"presentation for another node", presentWith(good, t0, m.binding, spiffeid.MustParse("spiffe://mesh.test/node/node-c")), m.binding, nodeA, ReasonWrongAudience},
		{"presented by another node", m.present(t, good), m.binding, spiffeid.MustParse("spiffe://mesh.test/node/node-c"), ReasonWrongNode},
		{"not a presentation", "hello", m.binding, nodeA, ReasonMalformed},
		{"credential alone", good.Token(), m.binding, nodeA, ReasonMalformed},
		{"alg none", "eyJhbGciOiJub25lIiwia2lkIjoieCIsInR5cCI6IkpXVCJ9.e30.~a~b", m.binding, nodeA, ReasonMalformed},
		{"claims of the wrong shape", forge(func(c *Claims) { c.ID = "short" }), m.binding, nodeA, ReasonMalformed},
	}
	seen := map[Reason]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.verifier.Verify(tc.p, tc.b, tc.peer)
			if got := ReasonOf(err); got != tc.want {
				t.Fatalf("reason %q (%v), want %q", got, err, tc.want)
			}
			if !errors.Is(err, &Error{Reason: tc.want}) {
				t.Fatalf("errors.Is does not match reason %q", tc.want)
			}
			if strings.Contains(err.Error(), good.Token()) {
				t.Fatal("the refusal quotes the credential")
			}
			seen[tc.want] = true
		})
	}
	for _, r := range Reasons() {
		if !seen[r] {
			t.Errorf("reason %q never triggered", r)
		}
	}
}

func TestClockSkewAllowanceIsHonouredAndNoMore(t *testing.T) {
	m := newMesh(t, 0)
	c := m.issue(t) // valid t0 .. t0+5m; default skew 2s
	m.clk.Set(c.Claims().Expiry.Add(DefaultClockSkew))
	if _, err := m.verifier.Verify(m.present(t, c), m.binding, nodeA); err != nil {
		t.Fatalf("credential expired by exactly the skew was refused: %v", err)
	}
	m.clk.Advance(time.Millisecond)
	if _, err := m.verifier.Verify(m.present(t, c), m.binding, nodeA); ReasonOf(err) != ReasonExpired {
		t.Fatalf("credential expired beyond the skew: %v", err)
	}

	early := newMesh(t, 0)
	c = early.issue(t)
	// The receiver's clock is 2 s behind the issuer's: still accepted.
	v, err := NewVerifier(VerifierConfig{Bundle: early.auth, Self: nodeB, Clock: clock.NewFake(t0.Add(-DefaultClockSkew))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(early.present(t, c), early.binding, nodeA); err != nil {
		t.Fatalf("receiver 2 s behind: %v", err)
	}
	strict, _ := NewVerifier(VerifierConfig{Bundle: early.auth, Self: nodeB, Clock: clock.NewFake(t0.Add(-DefaultClockSkew - time.Millisecond))})
	if _, err := strict.Verify(early.present(t, c), early.binding, nodeA); ReasonOf(err) != ReasonNotYetValid {
		t.Fatalf("receiver beyond the skew behind: %v", err)
	}
}

func TestReplayedPresentationIsRefusedButTheCredentialIsReusable(t *testing.T) {
	m := newMesh(t, 0)
	c := m.issue(t)
	for i := range 100 { // one credential, many requests
		if _, err := m.verifier.Verify(m.present(t, c), m.binding, nodeA); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	p := m.present(t, c)
	if _, err := m.verifier.Verify(p, m.binding, nodeA); err != nil {
		t.Fatal(err)
	}
	m.clk.Advance(DefaultPresentationWindow)
	if _, err := m.verifier.Verify(p, m.binding, nodeA); ReasonOf(err) != ReasonReplayed {
		t.Fatalf("replay within the window: %v", err)
	}
	m.clk.Advance(DefaultClockSkew + time.Millisecond)
	if _, err := m.verifier.Verify(p, m.binding, nodeA); ReasonOf(err) != ReasonExpired {
		t.Fatalf("replay after the window: %v", err)
	}
}

func TestRevocationTakesEffectOnTheNextRequestEvenForACachedCredential(t *testing.T) {
	m := newMesh(t, 0)
	c := m.issue(t)
	if _, err := m.verifier.Verify(m.present(t, c), m.binding, nodeA); err != nil {
		t.Fatal(err)
	}
	m.revoked.Revoke(agent)
	if _, err := m.verifier.Verify(m.present(t, c), m.binding, nodeA); ReasonOf(err) != ReasonRevoked {
		t.Fatalf("after revocation: %v", err)
	}
	m.revoked.Replace(nil)
	if _, err := m.verifier.Verify(m.present(t, c), m.binding, nodeA); err != nil {
		t.Fatalf("after restoring: %v", err)
	}
}

func TestCredentialsOfOldAndNewCABothVerifyUntilTheOldCAExpires(t *testing.T) {
	m := newMesh(t, 3*time.Hour)
	oldCA := m.auth.ActiveCertificate()
	m.clk.Advance(2*time.Hour + 59*time.Minute) // old CA valid for one more minute
	old := m.issue(t)
	if !old.Claims().Expiry.Equal(oldCA.NotAfter) {
		t.Fatalf("credential outlives its CA: exp %v, CA NotAfter %v", old.Claims().Expiry, oldCA.NotAfter)
	}
	if err := m.auth.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	fresh := m.issue(t)
	if old.Claims().KeyID == fresh.Claims().KeyID {
		t.Fatal("both credentials have the same kid")
	}
	for name, c := range map[string]*Credential{"old CA": old, "new CA": fresh} {
		if _, err := m.verifier.Verify(m.present(t, c), m.binding, nodeA); err != nil {
			t.Fatalf("%s during the overlap: %v", name, err)
		}
	}
	m.clk.Set(oldCA.NotAfter)
	if err := m.auth.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.verifier.Verify(m.present(t, fresh), m.binding, nodeA); err != nil {
		t.Fatalf("new CA after the old expired: %v", err)
	}
	if _, err := m.verifier.Verify(m.present(t, old), m.binding, nodeA); ReasonOf(err) != ReasonUnknownKey {
		t.Fatalf("old CA after it expired: %v", err)
	}
}

func TestBindingFromRealTLSIsTheSameOnBothEndsAndDiffersPerConnection(t *testing.T) {
	m := newMesh(t, 0)
	c := m.issue(t)
	b1s, b1c := tlsBindings(t)
	b2s, _ := tlsBindings(t)
	p, err := c.Present(m.clk.Now(), b1c, nodeB, Request{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.verifier.Verify(p.Value(), b2s, nodeA); ReasonOf(err) != ReasonBadSignature {
		t.Fatalf("presentation on another TLS connection: %v", err)
	}
	if _, err := m.verifier.Verify(p.Value(), b1s, nodeA); err != nil {
		t.Fatalf("presentation on its own TLS connection: %v", err)
	}
}

func TestIssueRefusesBadSpecs(t *testing.T) {
	m := newMesh(t, 0)
	for name, mutate := range map[string]func(*Spec){
		"node id as agent":   func(s *Spec) { s.Agent = nodeA },
		"other trust domain": func(s *Spec) { s.Agent = spiffeid.MustParse("spiffe://other.test/ns/local/agent/a") },
		"no role":            func(s *Spec) { s.Role = "" },
		"no lifetime":        func(s *Spec) { s.Lifetime = 0 },
		"bad measurement":    func(s *Spec) { s.Measurement = "md5:abc" },
	} {
		s := m.spec()
		mutate(&s)
		if _, err := m.issuer.Issue(context.Background(), s); err == nil {
			t.Errorf("%s: issued", name)
		}
	}
}

func TestLifetimeIsTheSmallestDomainMaxAgeElseTheRotationInterval(t *testing.T) {
	if got := Lifetime(10*time.Minute, 0, 3*time.Minute, time.Minute*5); got != 3*time.Minute {
		t.Fatalf("got %v", got)
	}
	if got := Lifetime(10*time.Minute, 0); got != 10*time.Minute {
		t.Fatalf("got %v", got)
	}
}

func TestSecretsAreNeverFormatted(t *testing.T) {
	m := newMesh(t, 0)
	c := m.issue(t)
	p, _ := c.Present(m.clk.Now(), m.binding, nodeB, Request{})
	for _, s := range []string{
		sprintAll(c), sprintAll(p), sprintAll(m.binding), sprintAll(*c),
	} {
		if strings.Contains(s, c.Token()) || strings.Contains(s, strings.Split(c.Token(), ".")[2]) {
			t.Fatalf("formatted output contains the token: %s", s)
		}
	}
}

// A presentation carries the measurement of the process that made its request, under the same
// MAC as the rest of its request part: the verifier hands it over, and a malformed one is
// refused at Present.
func TestPresentationCarriesTheRequestingProcessMeasurement(t *testing.T) {
	m := newMesh(t, 0)
	c := m.issue(t)
	meas := "sha256:" + strings.Repeat("c", 64)
	p, err := c.Present(m.clk.Now(), m.binding, nodeB, Request{ExchangeID: "x-9", Measurement: meas})
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.verifier.Verify(p.Value(), m.binding, nodeA)
	if err != nil {
		t.Fatal(err)
	}
	if v.Measurement != meas || v.ExchangeID != "x-9" {
		t.Fatalf("verified measurement %q exchange %q, want %q x-9", v.Measurement, v.ExchangeID, meas)
	}
	if _, err := c.Present(m.clk.Now(), m.binding, nodeB, Request{Measurement: "md5:abc"}); err == nil {
		t.Fatal("a malformed measurement was presented")
	}
}
