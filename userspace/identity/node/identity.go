package node

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/ca"
	"github.com/meshwarden/meshwarden/userspace/identity/clock"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

// DefaultLifetime is the validity of a node certificate.
const DefaultLifetime = 24 * time.Hour

// RotationPoint is the fraction of a node certificate's lifetime after which it is re-issued.
const RotationPoint = 2.0 / 3.0

// Config describes one node's identity.
type Config struct {
	Authority *ca.Authority
	Node      string        // the node's name: the last segment of its SPIFFE id
	Lifetime  time.Duration // node certificate validity; DefaultLifetime when zero
	Clock     clock.Clock
	Logger    *slog.Logger
}

// Identity holds the node's current TLS certificate and keeps it fresh.
type Identity struct {
	id       spiffeid.ID
	auth     *ca.Authority
	lifetime time.Duration
	clock    clock.Clock
	log      *slog.Logger
	cur      atomic.Pointer[current]
}

type current struct {
	cert  *tls.Certificate // its PrivateKey is held only here, never logged
	kid   string           // key id of the CA that signed it
	renew time.Time        // when Run re-issues it
}

// New issues the node's first certificate.
func New(ctx context.Context, cfg Config) (*Identity, error) {
	if cfg.Authority == nil {
		return nil, errors.New("node identity: no CA")
	}
	id, err := spiffeid.NodeID(cfg.Authority.TrustDomain(), cfg.Node)
	if err != nil {
		return nil, fmt.Errorf("node identity: %w", err)
	}
	i := &Identity{id: id, auth: cfg.Authority, lifetime: cfg.Lifetime, clock: clock.OrReal(cfg.Clock), log: cfg.Logger}
	if i.lifetime <= 0 {
		i.lifetime = DefaultLifetime
	}
	if i.log == nil {
		i.log = slog.Default()
	}
	i.log = i.log.With("component", "identity/node", "node", id.String())
	if err := i.rotate(ctx); err != nil {
		return nil, err
	}
	return i, nil
}

// ID returns the node's SPIFFE id.
func (i *Identity) ID() spiffeid.ID { return i.id }

// Certificate returns the node's current TLS certificate (leaf only; the CA is in the bundle).
func (i *Identity) Certificate() *tls.Certificate { return i.cur.Load().cert }

// rotate issues a new key and certificate under the active CA.
func (i *Identity) rotate(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("node identity: generate key: %w", err)
	}
	kid := i.auth.ActiveKeyID()
	leaf, err := i.auth.IssueNodeCertificate(i.id, pub, i.lifetime)
	if err != nil {
		return fmt.Errorf("node identity: %w", err)
	}
	span := leaf.NotAfter.Sub(leaf.NotBefore)
	renew := leaf.NotBefore.Add(time.Duration(float64(span) * RotationPoint))
	i.cur.Store(&current{
		cert:  &tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: priv, Leaf: leaf},
		kid:   kid,
		renew: renew,
	})
	i.log.Info("issued node certificate", "kid", kid, "serial", leaf.SerialNumber.Text(16), "not_after", leaf.NotAfter, "renew_at", renew)
	return nil
}

// Run re-issues the node certificate, with a fresh key, at RotationPoint of its lifetime and
// whenever the CA's active generation changes, until ctx ends. A failed issue is retried after
// ca.RetryInterval of the lifetime while the current certificate is still valid.
func (i *Identity) Run(ctx context.Context) error {
	var retryAt time.Time
	for {
		changed := i.auth.Changed()
		cur := i.cur.Load()
		now := i.clock.Now()
		wake := cur.renew
		if cur.kid != i.auth.ActiveKeyID() {
			wake = now
		}
		if retryAt.After(wake) {
			wake = retryAt
		}
		if !now.Before(wake) {
			retryAt = time.Time{}
			if err := i.rotate(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				retryAt = now.Add(ca.RetryInterval(i.lifetime))
				i.log.Error("rotate node certificate", "err", err, "retry_at", retryAt)
			}
			continue
		}
		t := i.clock.NewTimer(wake.Sub(now))
		select {
		case <-ctx.Done():
		case <-changed:
		case <-t.C():
		}
		t.Stop()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}
