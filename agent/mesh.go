package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/identity/attest"
	"github.com/meshwarden/meshwarden/userspace/identity/ca"
	"github.com/meshwarden/meshwarden/userspace/identity/credential"
	"github.com/meshwarden/meshwarden/userspace/identity/node"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
	"github.com/meshwarden/meshwarden/userspace/tunnel"
)

// mesh is the daemon's identity layer: the mesh CA, this node's identity, the agents'
// credentials, runtime attestation and the node-to-node tunnel (issue 4).
type mesh struct {
	td       spiffeid.TrustDomain
	auth     *ca.Authority
	me       *node.Identity
	creds    *credential.Manager
	revoked  *credential.Revocations
	verifier *credential.Verifier
	measurer *attest.Measurer
	client   *tunnel.Client
	router   *tunnel.Router
	server   *tunnel.Server
	tlsMin   uint16
	log      *slog.Logger
	issues   *issueCounter // the manager's issuer, counted for the metrics

	mu            sync.Mutex                   // guards running and revokedByHand
	running       map[spiffeid.ID]policy.Agent // agents whose credentials the manager keeps fresh
	revokedByHand map[spiffeid.ID]bool         // revoked by `meshwarden identity revoke`
	// life is the daemon's lifetime, set by syncAgents' first call from serve: credentials
	// started on a reload rotate until it ends.
	life context.Context
}

// openMesh opens the CA (created under StateDir/ca on first start, or loaded from the files
// named in opts) and this node's identity, and builds the credential manager, verifier and
// tunnel client of pol's trust domain.
func openMesh(ctx context.Context, opts Options, pol *policy.Policy, log *slog.Logger) (*mesh, error) {
	td, err := spiffeid.TrustDomainFromString(pol.Global.TrustDomain)
	if err != nil {
		return nil, fmt.Errorf("trust domain %q: %w", pol.Global.TrustDomain, err)
	}
	tlsMin, err := node.ParseTLSVersion(pol.Global.TLSMinVersion)
	if err != nil {
		return nil, fmt.Errorf("global.tls_min_version: %w", err)
	}
	auth, err := ca.Open(ctx, ca.Config{
		TrustDomain: td, StateDir: opts.StateDir,
		KeyFile: opts.CAKeyFile, CertFile: opts.CACertFile, TrustFiles: opts.TrustFiles,
		Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("open mesh CA: %w", err)
	}
	me, err := node.New(ctx, node.Config{Authority: auth, Node: opts.Node, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("node identity %q: %w", opts.Node, err)
	}
	issuer, err := credential.NewIssuer(credential.IssuerConfig{Signers: auth, Node: me.ID()})
	if err != nil {
		return nil, fmt.Errorf("credential issuer: %w", err)
	}
	revoked := credential.NewRevocations()
	verifier, err := credential.NewVerifier(credential.VerifierConfig{Bundle: auth, Self: me.ID(), Revocations: revoked})
	if err != nil {
		return nil, fmt.Errorf("credential verifier: %w", err)
	}
	issues := &issueCounter{next: issuer}
	m := &mesh{
		td: td, auth: auth, me: me, revoked: revoked, verifier: verifier, issues: issues,
		creds:    credential.NewManager(issues, nil, log),
		measurer: attest.NewMeasurer(attest.Options{}),
		tlsMin:   tlsMin, log: log,
		running: map[spiffeid.ID]policy.Agent{}, revokedByHand: map[spiffeid.ID]bool{},
	}
	m.client, err = tunnel.NewClient(tunnel.ClientConfig{
		Identity: me, TLS: node.TLSOptions{MinVersion: tlsMin}, Credentials: m.creds, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("tunnel client: %w", err)
	}
	direct := (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	m.router = tunnel.NewRouter(m.client, direct, nil)
	if err := m.setRoutes(pol, opts.Node); err != nil {
		return nil, err
	}
	log.Info("mesh identity ready", "node_id", me.ID().String(), "ca", auth.String(),
		"ca_dir", filepath.Join(opts.StateDir, "ca"))
	return m, nil
}

// setRoutes points the router at every other node of pol's `nodes:`.
func (m *mesh) setRoutes(pol *policy.Policy, self string) error {
	var routes []tunnel.Route
	for _, n := range pol.Nodes {
		if n.Name == self {
			continue
		}
		id, err := spiffeid.NodeID(m.td, n.Name)
		if err != nil {
			return fmt.Errorf("node %q: %w", n.Name, err)
		}
		routes = append(routes, tunnel.Route{Node: id, Addr: n.Address, Prefixes: pol.NodePrefixes(n)})
	}
	m.router.SetRoutes(routes)
	return nil
}

// agentID is a policy agent's SPIFFE id.
func (m *mesh) agentID(a policy.Agent) (spiffeid.ID, error) {
	ns := a.Namespace
	if ns == "" {
		ns = policy.DefaultNamespace
	}
	return spiffeid.AgentID(m.td, ns, a.ID)
}

// tunnelAddr is where the tunnel listens: every address of the node, on pol's tunnel port.
func tunnelAddr(pol *policy.Policy) string {
	return net.JoinHostPort("", strconv.Itoa(int(pol.Tunnel.Port)))
}

// run keeps the CA and the node certificate fresh until ctx ends and, when pol names the
// mesh's nodes, serves the tunnel on pol's tunnel port: a single-node mesh (no `nodes:`) has
// no peer to accept. It reports whether the tunnel listens.
func (m *mesh) run(ctx context.Context, wg *sync.WaitGroup, errs chan<- error, pol *policy.Policy) bool {
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := m.auth.Run(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("mesh CA rotation stopped", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := m.me.Run(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("node certificate rotation stopped", "err", err)
		}
	}()
	if len(pol.Nodes) == 0 {
		return false
	}
	addr := tunnelAddr(pol)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := m.server.ListenAndServe(ctx, addr); err != nil && ctx.Err() == nil {
			errs <- fmt.Errorf("tunnel on %s: %w", addr, err)
		}
	}()
	return true
}

// close stops issuing credentials and closes the tunnel client's connections.
func (m *mesh) close() {
	m.creds.Close()
	if err := m.client.Close(); err != nil {
		m.log.Warn("close tunnel client", "err", err)
	}
}

// openMesh opens the daemon's identity layer and its tunnel server.
func (d *Daemon) openMesh(pol *policy.Policy) (*mesh, error) {
	m, err := openMesh(context.Background(), d.opts, pol, d.log)
	if err != nil {
		return nil, err
	}
	if m.server, err = d.newTunnelServer(m); err != nil {
		return nil, err
	}
	d.watchMesh(m)
	return m, nil
}
