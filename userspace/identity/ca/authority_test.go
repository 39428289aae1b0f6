package ca

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/clock"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func testTD(t testing.TB) spiffeid.TrustDomain {
	t.Helper()
	td, err := spiffeid.TrustDomainFromString("mesh.test")
	if err != nil {
		t.Fatal(err)
	}
	return td
}

func openLocal(t testing.TB, dir string, clk clock.Clock, lifetime time.Duration, log *slog.Logger) *Authority {
	t.Helper()
	a, err := Open(context.Background(), Config{TrustDomain: testTD(t), StateDir: dir, Clock: clk, Lifetime: lifetime, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestOpenCreatesCAWithOwnerOnlyKeyAndReloadsTheSameCA(t *testing.T) {
	dir := t.TempDir()
	a := openLocal(t, dir, clock.NewFake(t0), 0, nil)
	kid := a.ActiveKeyID()
	keyPath := filepath.Join(dir, caDirName, kid, keyFileName)
	st, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("CA key mode %v, want 0600", st.Mode().Perm())
	}
	if st, _ := os.Stat(filepath.Join(dir, caDirName)); st.Mode().Perm() != 0o700 {
		t.Fatalf("CA directory mode %v, want 0700", st.Mode().Perm())
	}
	cert := a.ActiveCertificate()
	if !cert.IsCA || cert.URIs[0].String() != "spiffe://mesh.test" || cert.NotAfter.Sub(t0) != DefaultLifetime {
		t.Fatalf("CA certificate: IsCA %v URIs %v NotAfter %v", cert.IsCA, cert.URIs, cert.NotAfter)
	}
	if _, ok := cert.PublicKey.(ed25519.PublicKey); !ok {
		t.Fatalf("CA key is %T, want Ed25519", cert.PublicKey)
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		t.Fatalf("CA certificate is not self-signed: %v", err)
	}

	again := openLocal(t, dir, clock.NewFake(t0.Add(time.Hour)), 0, nil)
	if again.ActiveKeyID() != kid || !again.ActiveCertificate().Equal(cert) {
		t.Fatalf("reopened CA %s, want the persisted %s", again.ActiveKeyID(), kid)
	}
	s1, _ := a.Signer()
	s2, _ := again.Signer()
	msg := []byte("same key")
	if !bytes.Equal(s1.Sign(msg), s2.Sign(msg)) {
		t.Fatal("reloaded CA signs with a different key")
	}
}

func TestOpenRefusesACAKeyOthersCanRead(t *testing.T) {
	dir := t.TempDir()
	a := openLocal(t, dir, clock.NewFake(t0), 0, nil)
	keyPath := filepath.Join(dir, caDirName, a.ActiveKeyID(), keyFileName)
	if err := os.Chmod(keyPath, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), Config{TrustDomain: testTD(t), StateDir: dir, Clock: clock.NewFake(t0)})
	if err == nil || !strings.Contains(err.Error(), "others can read") {
		t.Fatalf("Open with a 0640 key = %v, want a refusal", err)
	}
}

func TestOpenLoadsAnExternalCAFromGivenFilesAndRefusesToRotateIt(t *testing.T) {
	td := testTD(t)
	g, err := newGeneration(td, t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyPEM, _ := encodeKeyPEM(g.key)
	keyFile, certFile := filepath.Join(dir, "ca.key"), filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, encodeCertPEM(g.cert.Raw), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), Config{TrustDomain: td, KeyFile: keyFile, CertFile: certFile, Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if a.ActiveKeyID() != g.kid {
		t.Fatalf("active kid %s, want %s", a.ActiveKeyID(), g.kid)
	}
	if err := a.Rotate(context.Background()); !errors.Is(err, ErrExternal) {
		t.Fatalf("Rotate of an external CA = %v, want ErrExternal", err)
	}
	other, _ := newGeneration(td, t0, time.Hour)
	otherPEM, _ := encodeKeyPEM(other.key)
	if err := os.WriteFile(keyFile, otherPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), Config{TrustDomain: td, KeyFile: keyFile, CertFile: certFile, Clock: clock.NewFake(t0)}); err == nil {
		t.Fatal("a key that does not match the certificate was accepted")
	}
}

func TestRotationKeepsTheOldCATrustedUntilItExpiresThenDropsIt(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewFake(t0)
	a := openLocal(t, dir, clk, 3*time.Hour, nil)
	oldKID := a.ActiveKeyID()
	oldCert := a.ActiveCertificate()
	clk.Advance(2 * time.Hour)
	if err := a.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	newKID := a.ActiveKeyID()
	if newKID == oldKID {
		t.Fatal("rotation kept the same key id")
	}
	if s, _ := a.Signer(); s.KeyID() != newKID {
		t.Fatalf("signer %s after rotation, want %s", s.KeyID(), newKID)
	}
	b := a.Bundle()
	for _, kid := range []string{oldKID, newKID} {
		if _, ok := b.Key(kid, clk.Now()); !ok {
			t.Fatalf("bundle during overlap lacks %s", kid)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, caDirName, oldKID, keyFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("retired CA key still on disk: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, caDirName, oldKID, certFileName)); err != nil {
		t.Fatalf("retired CA certificate removed before it expired: %v", err)
	}
	// Restarted during the overlap, the authority signs with the new CA and trusts both.
	re := openLocal(t, dir, clk, 3*time.Hour, nil)
	if re.ActiveKeyID() != newKID || len(re.Bundle().KeyIDs()) != 2 {
		t.Fatalf("after restart: active %s, bundle %v", re.ActiveKeyID(), re.Bundle().KeyIDs())
	}

	clk.Set(oldCert.NotAfter)
	if _, ok := a.Bundle().Key(oldKID, clk.Now()); ok {
		t.Fatal("expired CA key still answers")
	}
	if err := a.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ids := a.Bundle().KeyIDs(); len(ids) != 1 || ids[0] != newKID {
		t.Fatalf("bundle after the old CA expired: %v, want [%s]", ids, newKID)
	}
	if _, err := os.Stat(filepath.Join(dir, caDirName, oldKID)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("expired generation still on disk: %v", err)
	}
}

func TestPreparedCAIsTrustedBeforeItSigns(t *testing.T) {
	clk := clock.NewFake(t0)
	a := openLocal(t, t.TempDir(), clk, time.Hour, nil)
	old := a.ActiveKeyID()
	kid, err := a.Prepare(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Bundle().Key(kid, clk.Now()); !ok {
		t.Fatal("prepared CA missing from the bundle")
	}
	if s, _ := a.Signer(); s.KeyID() != old {
		t.Fatal("prepared CA signs before activation")
	}
	if err := a.Activate(context.Background(), kid); err != nil {
		t.Fatal(err)
	}
	if s, _ := a.Signer(); s.KeyID() != kid {
		t.Fatal("activated CA does not sign")
	}
}

func TestRunRotatesAtTwoThirdsOfTheCALifetime(t *testing.T) {
	clk := clock.NewFake(t0)
	a := openLocal(t, t.TempDir(), clk, 3*time.Hour, nil)
	old := a.ActiveCertificate()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	wait := func() {
		t.Helper()
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		defer wcancel()
		if err := clk.WaitForTimers(wctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	rotateAt := old.NotBefore.Add(time.Duration(float64(old.NotAfter.Sub(old.NotBefore)) * RotationPoint))
	wait()
	clk.Set(rotateAt.Add(-time.Second))
	wait()
	if a.ActiveKeyID() != KeyID(old.PublicKey.(ed25519.PublicKey)) {
		t.Fatal("rotated before two thirds of the lifetime")
	}
	changed := a.Changed()
	clk.Set(rotateAt)
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no rotation at two thirds of the lifetime")
	}
	wait()
	if a.ActiveCertificate().Equal(old) || len(a.Bundle().KeyIDs()) != 2 {
		t.Fatalf("after rotation: active %s, bundle %v", a.ActiveKeyID(), a.Bundle().KeyIDs())
	}
	changed = a.Changed()
	clk.Set(old.NotAfter)
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("the old CA was not pruned when it expired")
	}
	wait()
	if len(a.Bundle().KeyIDs()) != 1 {
		t.Fatalf("bundle after the old CA expired: %v", a.Bundle().KeyIDs())
	}
}

func TestNodeCertificateCarriesTheNodeIDAndVerifiesAgainstTheBundle(t *testing.T) {
	clk := clock.NewFake(t0)
	a := openLocal(t, t.TempDir(), clk, 0, nil)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	id := spiffeid.MustParse("spiffe://mesh.test/node/node-a")
	cert, err := a.IssueNodeCertificate(id, pub, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.URIs) != 1 || cert.URIs[0].String() != id.String() {
		t.Fatalf("URI SANs %v, want exactly [%s]", cert.URIs, id)
	}
	if cert.IsCA {
		t.Fatal("node certificate is a CA")
	}
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: a.Bundle().Pool(), CurrentTime: clk.Now(), KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Fatalf("verify for %v: %v", usage, err)
		}
	}
	if _, err := a.IssueNodeCertificate(spiffeid.MustParse("spiffe://mesh.test/ns/local/agent/x"), pub, time.Hour); err == nil {
		t.Fatal("a node certificate was issued for an agent id")
	}
	if _, err := a.IssueNodeCertificate(spiffeid.MustParse("spiffe://other.test/node/node-a"), pub, time.Hour); err == nil {
		t.Fatal("a node certificate was issued for another trust domain")
	}
}

func TestNodeCertificateNeverOutlivesItsCA(t *testing.T) {
	clk := clock.NewFake(t0)
	a := openLocal(t, t.TempDir(), clk, time.Hour, nil)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	cert, err := a.IssueNodeCertificate(spiffeid.MustParse("spiffe://mesh.test/node/n"), pub, 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.NotAfter.Equal(a.ActiveCertificate().NotAfter) {
		t.Fatalf("node certificate NotAfter %v, CA NotAfter %v", cert.NotAfter, a.ActiveCertificate().NotAfter)
	}
}

func TestKeyMaterialIsNeverFormattedOrLogged(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dir := t.TempDir()
	clk := clock.NewFake(t0)
	a := openLocal(t, dir, clk, time.Hour, log)
	keyPEM, err := os.ReadFile(filepath.Join(dir, caDirName, a.ActiveKeyID(), keyFileName))
	if err != nil {
		t.Fatal(err)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := a.IssueNodeCertificate(spiffeid.MustParse("spiffe://mesh.test/node/n"), pub, time.Hour); err != nil {
		t.Fatal(err)
	}
	s, _ := a.Signer()
	g := a.st.Load().active
	log.Info("dump", "authority", a, "signer", s, "generation", g, "state", a.st.Load())
	if err := a.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	var printed bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		fmt.Fprintf(&printed, verb+"\n", a)
		fmt.Fprintf(&printed, verb+"\n", s)
		fmt.Fprintf(&printed, verb+"\n", g)
		fmt.Fprintf(&printed, verb+"\n", *g)
		fmt.Fprintf(&printed, verb+"\n", key)
	}
	seed := key.k().Seed()
	for name, out := range map[string][]byte{"logs": logs.Bytes(), "formatting": printed.Bytes()} {
		for _, secret := range [][]byte{keyPEM, seed, []byte(fmt.Sprintf("%x", seed)), []byte(fmt.Sprint([]byte(seed))), []byte(fmt.Sprint([]byte(key.k())))} {
			if bytes.Contains(out, secret) {
				t.Fatalf("%s contain CA key material:\n%s", name, out)
			}
		}
	}
	if !strings.Contains(logs.String(), "created CA") {
		t.Fatalf("expected the creation to be logged:\n%s", logs.String())
	}
}
