package audit

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSigningKeyIsPrivateReusedAndItsPublicKeyBeside(t *testing.T) {
	dir := t.TempDir()
	key, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v)", st.Mode(), err)
	}
	if !publicKey(t, dir).Equal(key.Public()) {
		t.Fatal("public key file does not match the key")
	}
	again, err := LoadOrCreateKey(dir)
	if err != nil || !again.Equal(key) {
		t.Fatalf("second load gave another key (%v)", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("key directory holds %d entries, want 2", len(entries))
	}
}

func TestSigningKeyReadableByOthersIsRefused(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreateKey(dir); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, KeyFile), 0o644)
	if _, err := LoadOrCreateKey(dir); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("loaded a world-readable key: %v", err)
	}
}

func TestPublicKeyIsRewrittenWhenReplaced(t *testing.T) {
	dir := t.TempDir()
	key, _ := LoadOrCreateKey(dir)
	other, _, _ := ed25519.GenerateKey(nil)
	if err := writePublicKey(dir, other); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(dir); err != nil {
		t.Fatal(err)
	}
	if !publicKey(t, dir).Equal(key.Public()) {
		t.Fatal("public key beside the private key was not restored")
	}
}
