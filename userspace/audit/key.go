package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Names of the node's audit signing key files in the key directory.
const (
	KeyFile       = "audit-signing.key" // PKCS #8 PEM, mode 0600, never leaves the node
	PublicKeyFile = "audit-signing.pub" // PKIX PEM, for verifiers
)

// LoadOrCreateKey returns the node's audit signing key from dir, creating it (and the
// directory) on first use. The public key is (re)written beside it as PublicKeyFile. A key file
// that others may read is refused: its signatures could have been forged.
func LoadOrCreateKey(dir string) (ed25519.PrivateKey, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create audit key directory: %w", err)
	}
	path := filepath.Join(dir, KeyFile)
	key, err := readPrivateKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createPrivateKey(dir, path)
	}
	if err != nil {
		return nil, err
	}
	if err := writePublicKey(dir, key.Public().(ed25519.PublicKey)); err != nil {
		return nil, err
	}
	return key, nil
}

func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	k, err := readPKCS8File(path, "audit signing key")
	if err != nil {
		return nil, err
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("audit signing key %s: %T, want an Ed25519 key", path, k)
	}
	return key, nil
}

// readPKCS8File reads a PKCS #8 PEM private key (what names it in errors), refusing a file
// that others may read.
func readPKCS8File(path, what string) (any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", what, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", what, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s %s has mode %v: refusing a key others can read (want 0600)", what, path, st.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", what, path, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s %s: no PEM PRIVATE KEY block", what, path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return k, nil
}

// createPrivateKey writes a new key to a temporary file and links it into place, so a key file
// is never seen half written and two processes racing agree on one key.
func createPrivateKey(dir, path string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate audit signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode audit signing key: %w", err)
	}
	tmp, err := writeTemp(dir, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	if err != nil {
		return nil, fmt.Errorf("write audit signing key: %w", err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		return readPrivateKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("install audit signing key: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return key, nil
}

func writePublicKey(dir string, pub ed25519.PublicKey) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("encode audit public key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	path := filepath.Join(dir, PublicKeyFile)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp, err := writeTemp(dir, data, 0o644)
	if err != nil {
		return fmt.Errorf("write audit public key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("install audit public key: %w", err)
	}
	return syncDir(dir)
}

// ReadPublicKey reads a PublicKeyFile (PKIX PEM).
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	k, err := readPKIXFile(path, "audit public key")
	if err != nil {
		return nil, err
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("audit public key %s: %T, want an Ed25519 key", path, k)
	}
	return pub, nil
}

// readPKIXFile reads a PKIX PEM public key (what names it in errors).
func readPKIXFile(path, what string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%s %s: no PEM PUBLIC KEY block", what, path)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return k, nil
}

// KeyID names a public key in checkpoints: hex of the first 16 bytes of its sha256.
func KeyID(pub ed25519.PublicKey) string { return keyID(pub) }

// keyID is the hex of the first 16 bytes of the sha256 of a public key's bytes.
func keyID(pub []byte) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:16])
}

// writeTemp writes data to a new file in dir with mode perm, synced, and returns its name.
func writeTemp(dir string, data []byte, perm os.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, ".audit-key-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// syncDir makes the directory entries of dir durable (a created, renamed or removed file).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
