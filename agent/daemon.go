// Package agent is the node daemon: it loads the policy, prepares cgroups, loads and attaches
// the datapath, runs the enforcer and the flow-event reader, and reloads policy on change.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/meshwarden/meshwarden/loader"
	"github.com/meshwarden/meshwarden/loader/cgroup"
	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/proxy"
)

// Options configure one daemon.
type Options struct {
	ConfigPath string
	StateDir   string // default /var/lib/meshwarden
	AuditLog   string // default <StateDir>/audit.jsonl
	PinDir     string // default loader.DefaultPinDir
	Node       string // default the host name
	Logger     *slog.Logger
	// MetricsAddr is where /metrics is served (host:port; port 0 picks one); empty serves none.
	MetricsAddr string
	// Version is the binary's version, in meshwarden_build_info and status.
	Version string
	// Ready, when set, is called once the enforcer listens and the datapath is live.
	Ready func()
	// CAKeyFile and CACertFile name an externally managed mesh CA (every node of a mesh
	// loads the same files); empty: the CA lives under StateDir/ca, created on first start.
	CAKeyFile, CACertFile string
	// TrustFiles name PEM files of further CA certificates to trust.
	TrustFiles []string
	// AuditPayloadKeyFile names the audit payload public key (PKIX PEM, X25519; made by
	// `meshwarden audit keygen`) that payloads of domains with audit_payloads are sealed to.
	// Empty: a policy with such a domain is refused, at start and on reload.
	AuditPayloadKeyFile string
	// AuditExport sends the committed audit lines to stdout and/or a webhook (auditexport.go).
	AuditExport AuditExport
}

// Daemon is a running node daemon.
type Daemon struct {
	opts   Options
	log    *slog.Logger
	root   string // cgroup2 mount
	dp     *loader.Datapath
	audit  *audit.Writer
	attach string // agents' parent cgroup, relative to root
	cur    atomic.Pointer[view]
	reload sync.Mutex // serialises reloads
	seen   string     // digest of the config content last loaded (under reload)
	unsure string     // digest of changed content seen once by the poll, not loaded yet (under reload)
	obs    observability
	mesh   *mesh                // identity, attestation and the node-to-node tunnel
	sealer *audit.PayloadSealer // audit payload key; nil when none is configured
}

// ErrInvalidPolicy wraps policy validation errors so the CLI can exit with status 2.
var ErrInvalidPolicy = errors.New("invalid policy")

// Run starts the daemon and blocks until ctx ends. Enforcement stays in the kernel afterwards.
func Run(ctx context.Context, opts Options) error {
	d, err := start(opts)
	if err != nil {
		return err
	}
	defer d.close()
	return d.serve(ctx)
}

func start(opts Options) (*Daemon, error) {
	if opts.StateDir == "" {
		opts.StateDir = "/var/lib/meshwarden"
	}
	if opts.AuditLog == "" {
		opts.AuditLog = filepath.Join(opts.StateDir, "audit.jsonl")
	}
	if opts.PinDir == "" {
		opts.PinDir = loader.DefaultPinDir
	}
	if opts.Node == "" {
		opts.Node, _ = os.Hostname()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	d := &Daemon{opts: opts, log: opts.Logger}
	d.initObservability()

	data, err := os.ReadFile(opts.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	pol, err := policy.Parse(opts.ConfigPath, data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	if d.sealer, err = loadPayloadSealer(opts.AuditPayloadKeyFile); err != nil {
		return nil, err
	}
	if err := checkPayloadKey(pol, d.sealer); err != nil {
		return nil, err
	}
	d.seen = PolicyDigest(data)
	if err := os.MkdirAll(opts.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	if d.root, err = cgroup.Root(); err != nil {
		return nil, err
	}
	// The enforcer joins its own cgroup before it opens any socket: accepted sockets inherit
	// the listener's cgroup, which is where getsockopt(SO_ORIGINAL_DST) is answered.
	enfCgroup, err := cgroup.Ensure(d.root, pol.Enforcer.Cgroup)
	if err != nil {
		return nil, err
	}
	if err := cgroup.Join(enfCgroup); err != nil {
		return nil, err
	}
	if d.attach, err = attachPoint(pol); err != nil {
		return nil, err
	}
	v, err := buildView(d.root, pol)
	if err != nil {
		return nil, err
	}
	if err := checkAttachSafe(absCgroup(d.root, d.attach)); err != nil {
		return nil, err
	}
	if d.audit, err = d.openAudit(); err != nil {
		return nil, err
	}
	if d.mesh, err = d.openMesh(pol); err != nil {
		d.audit.Close()
		return nil, err
	}
	d.dp, err = loader.Load(loader.Options{
		PinDir:         opts.PinDir,
		AgentCgroup:    absCgroup(d.root, d.attach),
		EnforcerCgroup: enfCgroup,
	})
	if err != nil {
		d.audit.Close()
		return nil, err
	}
	if err := d.apply(v); err != nil {
		d.close()
		return nil, err
	}
	d.obs.metrics.WatchDatapath(d.dp)
	d.obs.metrics.WatchAudit(d.audit)
	reused := 0
	for _, a := range d.dp.Attachments() {
		if a.Reused {
			reused++
		}
		d.log.Info("hook attached", "hook", a.Hook, "cgroup", a.Cgroup, "link_id", a.LinkID, "reused", a.Reused)
	}
	d.system(fmt.Sprintf("datapath live: %d hooks (%d reused from pins), %d agents, policy %s (%s)",
		len(d.dp.Attachments()), reused, len(pol.Agents), opts.ConfigPath, d.seen))
	return d, nil
}

// apply writes a view into the kernel tables and makes it the daemon's current one.
func (d *Daemon) apply(v *view) error {
	enfID, err := loader.CgroupID(absCgroup(d.root, v.pol.Enforcer.Cgroup))
	if err != nil {
		return err
	}
	gen, err := d.dp.Apply(v.pol.Tables(), v.eps, loader.Config{
		Enforcer4:      v.pol.Enforcer.Address4,
		Enforcer6:      v.pol.Enforcer.Address6,
		Port:           v.pol.Enforcer.Port,
		EnforcerCgroup: enfID,
	})
	if err != nil {
		return fmt.Errorf("apply policy %s: %w", v.pol.Source, err)
	}
	d.cur.Store(v)
	d.policyApplied(v, gen)
	d.log.Info("policy applied", "generation", gen, "agents", len(v.eps), "rules", len(v.pol.Tables().Rules))
	return nil
}

func (d *Daemon) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pol := d.cur.Load().pol
	lns, err := d.listen(pol.Enforcer)
	if err != nil {
		return err
	}
	addrs := make([]string, len(lns))
	for i, ln := range lns {
		addrs[i] = ln.Addr().String()
	}
	if err := d.openObservability(ctx, addrs); err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return err
	}
	// SIGHUP reloads the policy: catch it before the record below tells anyone the daemon is up.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	drops := d.watchRingbufDrops() // its baseline read comes before anyone is told the daemon is up
	d.system("enforcer listening on " + strings.Join(addrs, ", "))
	if err := d.mesh.syncAgents(ctx, pol); err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return err
	}
	srv := proxy.New(proxy.Config{
		Resolver:       originResolver{d.dp},
		Identify:       d.identify,
		IdentifyOrigin: d.identifyOrigin,
		Dial:           d.dial,
		Engine:         d.engine,
		ZoneName:       func(id uint32) string { return d.cur.Load().pol.ZoneName(id) },
		Audit:          auditSink{d},
		Logger:         d.log,
		Observer:       enforcerObserver{d},
		PayloadSealer:  d.sealer,
	})
	d.obs.enforcer.Store(srv)
	var wg sync.WaitGroup
	errs := make(chan error, len(lns)+5) // enforcers, events, metrics, operator API, tunnel
	if d.mesh.run(ctx, &wg, errs, pol) {
		d.system("node tunnel listening on " + tunnelAddr(pol) + " as " + d.mesh.me.ID().String())
	}
	for _, ln := range lns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ctx, ln); err != nil {
				errs <- fmt.Errorf("enforcer on %s: %w", ln.Addr(), err)
			}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := d.dp.ReadEvents(ctx, loader.EventHandlers{Connect: d.flowEvent, Close: d.flowClosed}); err != nil {
			errs <- err
		}
	}()
	wg.Go(func() { drops.run(ctx, dropReportInterval) })
	go func() {
		defer wg.Done()
		d.watchPolicy(ctx, hup)
	}()
	d.serveObservability(ctx, &wg, errs)
	if d.opts.Ready != nil {
		d.opts.Ready()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errs:
	}
	cancel()
	wg.Wait()
	d.system("daemon stopping; programs stay attached")
	return runErr
}

// listen opens the enforcer's IPv4 listener and, where the host has IPv6, its IPv6 one.
func (d *Daemon) listen(e policy.Enforcer) ([]net.Listener, error) {
	var lc net.ListenConfig
	ln4, err := lc.Listen(context.Background(), "tcp4", netip.AddrPortFrom(e.Address4, e.Port).String())
	if err != nil {
		return nil, fmt.Errorf("enforcer listen on %s:%d: %w", e.Address4, e.Port, err)
	}
	lns := []net.Listener{ln4}
	ln6, err := lc.Listen(context.Background(), "tcp6", netip.AddrPortFrom(e.Address6, e.Port).String())
	if err != nil {
		d.log.Warn("enforcer has no IPv6 listener: redirected IPv6 flows will be refused", "addr", e.Address6, "err", err)
	} else {
		lns = append(lns, ln6)
	}
	return lns, nil
}

func (d *Daemon) identify(cgroupID uint64) (proxy.Identity, bool) {
	a, ok := d.cur.Load().agentOf(cgroupID)
	if !ok {
		return proxy.Identity{}, false
	}
	return proxy.Identity{AgentID: a.ID, Role: a.Role, Zone: a.Zone, Kind: a.Kind}, true
}

// system writes a system audit record and logs it.
func (d *Daemon) system(msg string) {
	d.log.Info(msg)
	if err := d.writeAudit(audit.Record{Kind: audit.KindSystem, Message: msg}); err != nil {
		d.log.Error("audit write failed", "err", err)
	}
}

func (d *Daemon) close() {
	if d.mesh != nil {
		d.mesh.close()
	}
	if d.dp != nil {
		if err := d.dp.Close(); err != nil {
			d.log.Error("close datapath", "err", err)
		}
	}
	if d.audit != nil {
		if err := d.audit.Close(); err != nil {
			d.log.Error("close audit log", "err", err)
		}
	}
}

// originResolver adapts the datapath's tuple map to the enforcer.
type originResolver struct{ dp *loader.Datapath }

func (r originResolver) Resolve(peer netip.AddrPort) (proxy.Origin, error) {
	o, err := r.dp.TakeOrigin(peer)
	if err != nil {
		return proxy.Origin{}, err
	}
	return proxy.Origin{
		Dst: o.Dst, CgroupID: o.CgroupID, PID: o.PID, Comm: o.Comm,
		SrcZone: o.SrcZone, DstZone: o.DstZone, Cookie: o.Cookie,
	}, nil
}
