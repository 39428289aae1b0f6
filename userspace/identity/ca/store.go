package ca

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// Names inside <state>/ca.
const (
	caDirName      = "ca"
	activeFileName = "active"
	certFileName   = "ca.crt"
	keyFileName    = "ca.key"
	maxFileSize    = 1 << 20
)

// store is the on-disk layout of a local-mode authority:
//
//	<state>/ca/            0700
//	<state>/ca/active      the active generation's key id
//	<state>/ca/<kid>/ca.crt
//	<state>/ca/<kid>/ca.key   0600, removed when the generation retires
type store struct {
	dir string
	td  spiffeid.TrustDomain
}

func newStore(stateDir string, td spiffeid.TrustDomain) (*store, error) {
	dir := filepath.Join(stateDir, caDirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create CA directory: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("stat CA directory: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("CA directory %s has mode %v: refusing a directory others can enter (want 0700)", dir, st.Mode().Perm())
	}
	return &store{dir: dir, td: td}, nil
}

// load returns every generation on disk and the active key id ("" when none is recorded).
func (s *store) load() (gens []*generation, active string, err error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, "", fmt.Errorf("read CA directory: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		g, err := s.loadGeneration(e.Name())
		if err != nil {
			return nil, "", err
		}
		gens = append(gens, g)
	}
	data, err := readSmallFile(filepath.Join(s.dir, activeFileName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, "", fmt.Errorf("read active CA: %w", err)
	default:
		active = strings.TrimSpace(string(data))
	}
	return gens, active, nil
}

func (s *store) loadGeneration(kid string) (*generation, error) {
	dir := filepath.Join(s.dir, kid)
	data, err := readSmallFile(filepath.Join(dir, certFileName))
	if err != nil {
		return nil, fmt.Errorf("read CA certificate %s: %w", kid, err)
	}
	certs, err := parseCertsPEM(data)
	if err != nil {
		return nil, fmt.Errorf("CA certificate %s: %w", kid, err)
	}
	key, err := readKeyFile(filepath.Join(dir, keyFileName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	g, err := checkGeneration(s.td, certs[0], key)
	if err != nil {
		return nil, fmt.Errorf("CA generation %s: %w", kid, err)
	}
	if g.kid != kid {
		return nil, fmt.Errorf("CA generation directory %s holds key id %s", kid, g.kid)
	}
	return g, nil
}

// saveGeneration writes g's certificate and key into <ca>/<kid>, key first, each atomically.
func (s *store) saveGeneration(g *generation) error {
	dir := filepath.Join(s.dir, g.kid)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create CA generation directory: %w", err)
	}
	if g.key != nil {
		keyPEM, err := encodeKeyPEM(g.key)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(dir, keyFileName), keyPEM, 0o600); err != nil {
			return fmt.Errorf("write CA key: %w", err)
		}
	}
	if err := writeFileAtomic(filepath.Join(dir, certFileName), encodeCertPEM(g.cert.Raw), 0o644); err != nil {
		return fmt.Errorf("write CA certificate: %w", err)
	}
	return nil
}

func (s *store) setActive(kid string) error {
	if err := writeFileAtomic(filepath.Join(s.dir, activeFileName), []byte(kid+"\n"), 0o644); err != nil {
		return fmt.Errorf("record active CA: %w", err)
	}
	return nil
}

// retireKey deletes a generation's key file; its certificate stays until it expires.
func (s *store) retireKey(kid string) error {
	err := os.Remove(filepath.Join(s.dir, kid, keyFileName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove retired CA key: %w", err)
	}
	return syncDir(filepath.Join(s.dir, kid))
}

// removeGeneration deletes an expired generation entirely.
func (s *store) removeGeneration(kid string) error {
	if err := os.RemoveAll(filepath.Join(s.dir, kid)); err != nil {
		return fmt.Errorf("remove expired CA generation: %w", err)
	}
	return syncDir(s.dir)
}

// readKeyFile reads a PKCS #8 Ed25519 key, refusing a file others may read or write.
func readKeyFile(path string) (*privateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat CA key %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("CA key %s has mode %v: refusing a key others can read (want 0600)", path, st.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize))
	if err != nil {
		return nil, fmt.Errorf("read CA key %s: %w", path, err)
	}
	key, err := parseKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("CA key %s: %w", path, err)
	}
	return key, nil
}

func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxFileSize))
}

// writeFileAtomic writes data to path through a synced temporary file created with mode perm
// and a rename, so a crash leaves the old file or the new one, never a torn one, and a key is
// never readable by others even for an instant.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s for sync: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
