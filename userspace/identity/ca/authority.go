package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/clock"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// DefaultLifetime is the validity of a CA generation the authority creates.
const DefaultLifetime = 365 * 24 * time.Hour

// ErrExternal is returned by rotation calls on an authority whose CA comes from files it does
// not manage.
var ErrExternal = errors.New("CA is externally managed (loaded from KeyFile/CertFile): rotate it by replacing the files")

// Config says where the authority's CA lives.
type Config struct {
	TrustDomain spiffeid.TrustDomain
	// StateDir is the daemon's state directory; the CA lives in StateDir/ca (local mode).
	StateDir string
	// KeyFile and CertFile name an externally managed CA (PKCS #8 Ed25519 key, mode 0600, and its
	// PEM certificate). When set, StateDir is not used for the CA and rotation is refused.
	KeyFile, CertFile string
	// TrustFiles name PEM files of further CA certificates to trust (a peer mesh's or an older
	// external CA during its replacement).
	TrustFiles []string
	// Lifetime is the validity of each generated CA; DefaultLifetime when zero.
	Lifetime time.Duration
	Clock    clock.Clock
	Logger   *slog.Logger
}

// Authority is the mesh's trust root. It is safe for concurrent use; readers (Bundle, Signer)
// never lock.
type Authority struct {
	td       spiffeid.TrustDomain
	lifetime time.Duration
	clock    clock.Clock
	log      *slog.Logger
	store    *store              // nil for an external CA
	trusted  []*x509.Certificate // from TrustFiles

	mu        sync.Mutex // serialises changes
	st        atomic.Pointer[state]
	changedMu sync.Mutex
	changed   chan struct{}
}

// state is one immutable snapshot of the authority.
type state struct {
	active *generation
	gens   []*generation // every trusted generation, active included, oldest first
	bundle *Bundle
}

// Open returns the authority of cfg: it loads the CA from KeyFile/CertFile, or from StateDir,
// creating a first generation there when none exists.
func Open(ctx context.Context, cfg Config) (*Authority, error) {
	if cfg.TrustDomain.IsZero() {
		return nil, errors.New("open CA: empty trust domain")
	}
	a := &Authority{
		td:       cfg.TrustDomain,
		lifetime: cfg.Lifetime,
		clock:    clock.OrReal(cfg.Clock),
		log:      cfg.Logger,
		changed:  make(chan struct{}),
	}
	if a.lifetime <= 0 {
		a.lifetime = DefaultLifetime
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.log = a.log.With("component", "identity/ca", "trust_domain", a.td.String())
	for _, path := range cfg.TrustFiles {
		data, err := readSmallFile(path)
		if err != nil {
			return nil, fmt.Errorf("open CA: read trust file: %w", err)
		}
		certs, err := parseCertsPEM(data)
		if err != nil {
			return nil, fmt.Errorf("open CA: trust file %s: %w", path, err)
		}
		a.trusted = append(a.trusted, certs...)
	}
	var err error
	switch {
	case cfg.KeyFile != "" || cfg.CertFile != "":
		err = a.openExternal(cfg.KeyFile, cfg.CertFile)
	case cfg.StateDir != "":
		err = a.openLocal(ctx, cfg.StateDir)
	default:
		err = errors.New("neither StateDir nor KeyFile/CertFile is set")
	}
	if err != nil {
		return nil, fmt.Errorf("open CA: %w", err)
	}
	return a, nil
}

func (a *Authority) openExternal(keyFile, certFile string) error {
	if keyFile == "" || certFile == "" {
		return errors.New("KeyFile and CertFile must be set together")
	}
	key, err := readKeyFile(keyFile)
	if err != nil {
		return err
	}
	data, err := readSmallFile(certFile)
	if err != nil {
		return fmt.Errorf("read CA certificate: %w", err)
	}
	certs, err := parseCertsPEM(data)
	if err != nil {
		return fmt.Errorf("CA certificate %s: %w", certFile, err)
	}
	g, err := checkGeneration(a.td, certs[0], key)
	if err != nil {
		return err
	}
	if err := a.publish(g, []*generation{g}); err != nil {
		return err
	}
	a.log.Info("loaded external CA", "kid", g.kid, "not_after", g.cert.NotAfter)
	return nil
}

func (a *Authority) openLocal(ctx context.Context, stateDir string) error {
	s, err := newStore(stateDir, a.td)
	if err != nil {
		return err
	}
	a.store = s
	gens, activeKID, err := s.load()
	if err != nil {
		return err
	}
	now := a.clock.Now()
	var active *generation
	for _, g := range gens {
		if g.kid == activeKID && g.key != nil && now.Before(g.cert.NotAfter) {
			active = g
		}
	}
	if active == nil { // first start, or a crash between creating a generation and recording it
		for _, g := range gens {
			if g.key != nil && now.Before(g.cert.NotAfter) && (active == nil || g.cert.NotAfter.After(active.cert.NotAfter)) {
				active = g
			}
		}
	}
	if active == nil {
		if active, err = a.createGeneration(ctx); err != nil {
			return err
		}
		gens = append(gens, active)
		a.log.Info("created CA", "kid", active.kid, "not_after", active.cert.NotAfter, "dir", s.dir)
	} else {
		a.log.Info("loaded CA", "kid", active.kid, "not_after", active.cert.NotAfter, "generations", len(gens))
	}
	if active.kid != activeKID {
		if err := s.setActive(active.kid); err != nil {
			return err
		}
	}
	slices.SortFunc(gens, func(x, y *generation) int { return x.cert.NotBefore.Compare(y.cert.NotBefore) })
	if err := a.publish(active, gens); err != nil {
		return err
	}
	return a.Prune(ctx)
}

// createGeneration makes and persists a new generation (not yet active).
func (a *Authority) createGeneration(ctx context.Context) (*generation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g, err := newGeneration(a.td, a.clock.Now(), a.lifetime)
	if err != nil {
		return nil, err
	}
	if err := a.store.saveGeneration(g); err != nil {
		return nil, err
	}
	return g, nil
}

// publish installs a new snapshot and wakes everyone waiting on Changed.
func (a *Authority) publish(active *generation, gens []*generation) error {
	certs := make([]*x509.Certificate, 0, len(gens)+len(a.trusted))
	for _, g := range gens {
		certs = append(certs, g.cert)
	}
	certs = append(certs, a.trusted...)
	b, err := NewBundle(a.td, certs...)
	if err != nil {
		return err
	}
	a.st.Store(&state{active: active, gens: gens, bundle: b})
	a.changedMu.Lock()
	close(a.changed)
	a.changed = make(chan struct{})
	a.changedMu.Unlock()
	return nil
}

// TrustDomain returns the authority's trust domain.
func (a *Authority) TrustDomain() spiffeid.TrustDomain { return a.td }

// Bundle returns the current trust bundle.
func (a *Authority) Bundle() *Bundle { return a.st.Load().bundle }

// ActiveKeyID returns the key id of the generation that signs now.
func (a *Authority) ActiveKeyID() string { return a.st.Load().active.kid }

// ActiveCertificate returns the certificate of the generation that signs now.
func (a *Authority) ActiveCertificate() *x509.Certificate { return a.st.Load().active.cert }

// Changed returns a channel that is closed at the authority's next change (rotation, prune).
func (a *Authority) Changed() <-chan struct{} {
	a.changedMu.Lock()
	defer a.changedMu.Unlock()
	return a.changed
}

// LogValue keeps an authority in a log line down to its public facts.
func (a *Authority) LogValue() slog.Value {
	st := a.st.Load()
	return slog.GroupValue(slog.String("trust_domain", a.td.String()), slog.String("active_kid", st.active.kid), slog.Int("generations", len(st.gens)))
}

// String implements fmt.Stringer with the same public facts.
func (a *Authority) String() string {
	st := a.st.Load()
	return fmt.Sprintf("CA(%s, active %s, %d generations)", a.td, st.active.kid, len(st.gens))
}

// Format prints the authority as String does, whatever the verb, so no formatting of an
// *Authority can reach its keys.
func (a *Authority) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, a.String()) }
