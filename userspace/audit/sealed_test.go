package audit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testPayloadKey generates an audit payload key pair in a temporary directory.
func testPayloadKey(t testing.TB) (*PayloadSealer, *PayloadOpener) {
	t.Helper()
	keyPath, pubPath, err := GeneratePayloadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := ReadPayloadSealer(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	opener, err := ReadPayloadOpener(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	return sealer, opener
}

func TestSealedPayloadOpensWithItsKeyForItsRecord(t *testing.T) {
	sealer, opener := testPayloadKey(t)
	payload := []byte(`{"patient":"[redacted:ssn]"}`)
	id := NewID()
	s, err := sealer.Seal(payload, id, "ex-1", PartRequest)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID != sealer.KeyID() || s.KeyID != opener.KeyID() || len(s.KeyID) != 32 {
		t.Fatalf("key ids: sealed %q, sealer %q, opener %q", s.KeyID, sealer.KeyID(), opener.KeyID())
	}
	if strings.Contains(s.CT, "redacted") {
		t.Fatal("ciphertext holds the plaintext")
	}
	got, err := opener.Open(s, id, "ex-1", PartRequest)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("open: %q, %v", got, err)
	}
	again, _ := sealer.Seal(payload, id, "ex-1", PartRequest)
	if again.Enc == s.Enc || again.CT == s.CT {
		t.Fatal("two seals of one payload are equal: the encapsulation is not fresh")
	}
}

func TestSealedPayloadDoesNotOpenWithAnotherKey(t *testing.T) {
	sealer, _ := testPayloadKey(t)
	_, other := testPayloadKey(t)
	s, _ := sealer.Seal([]byte("secret"), "r", "x", PartRequest)
	if _, err := other.Open(s, "r", "x", PartRequest); !errors.Is(err, ErrWrongPayloadKey) {
		t.Fatalf("opened with another key: %v", err)
	}
	s.KeyID = other.KeyID() // a key id that lies still does not open it
	if _, err := other.Open(s, "r", "x", PartRequest); err == nil {
		t.Fatal("opened with another key once the key id was changed")
	}
}

func TestTamperedSealedPayloadDoesNotOpen(t *testing.T) {
	sealer, opener := testPayloadKey(t)
	s, _ := sealer.Seal([]byte("the payload"), "r", "x", PartRequest)
	ct, _ := base64.StdEncoding.DecodeString(s.CT)
	ct[0] ^= 1
	bad := *s
	bad.CT = base64.StdEncoding.EncodeToString(ct)
	if _, err := opener.Open(&bad, "r", "x", PartRequest); err == nil {
		t.Fatal("a changed ciphertext opened")
	}
	enc, _ := base64.StdEncoding.DecodeString(s.Enc)
	enc[5] ^= 1
	bad = *s
	bad.Enc = base64.StdEncoding.EncodeToString(enc)
	if _, err := opener.Open(&bad, "r", "x", PartRequest); err == nil {
		t.Fatal("a changed encapsulated key opened")
	}
}

func TestSealedPayloadMovedToAnotherRecordDoesNotOpen(t *testing.T) {
	sealer, opener := testPayloadKey(t)
	id := NewID()
	s, _ := sealer.Seal([]byte("the payload"), id, "ex-1", PartRequest)
	for name, where := range map[string][3]string{
		"another record id":   {NewID(), "ex-1", PartRequest},
		"another exchange id": {id, "ex-2", PartRequest},
		"the response part":   {id, "ex-1", PartResponse},
	} {
		if _, err := opener.Open(s, where[0], where[1], where[2]); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	r := Record{ID: NewID(), ExchangeID: "ex-1", PayloadSealed: s}
	if _, _, err := opener.OpenRecord(&r); err == nil {
		t.Fatal("OpenRecord opened a payload moved to another record")
	}
}

func TestPayloadKeygenWritesAPrivateKeyAndNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath, err := GeneratePayloadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(keyPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v (%v)", st.Mode(), err)
	}
	pub, _ := os.ReadFile(pubPath)
	if !bytes.HasPrefix(pub, []byte("-----BEGIN PUBLIC KEY-----")) {
		t.Fatalf("public key file: %s", pub)
	}
	if _, _, err := GeneratePayloadKey(dir); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("second keygen: %v", err)
	}
	os.Chmod(keyPath, 0o640)
	if _, err := ReadPayloadOpener(keyPath); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("read a key others can read: %v", err)
	}
	if _, err := ReadPayloadSealer(filepath.Join(dir, "missing.pub")); err == nil {
		t.Fatal("read a missing public key")
	}
	if _, err := ReadPayloadSealer(keyPath); err == nil {
		t.Fatal("read a private key as the public key")
	}
}
