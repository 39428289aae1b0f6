// Package loader loads the eBPF datapath, attaches it to cgroups, pins maps and links so a
// restart never lapses enforcement, and gives typed access to every map and to the flow events.
package loader

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
)

// DefaultPinDir is where maps and links live; the last element is the map layout version.
const DefaultPinDir = "/sys/fs/bpf/meshwarden/v1"

// Options says where to pin and where to attach.
type Options struct {
	PinDir string // default DefaultPinDir
	// AgentCgroup is the absolute path of the cgroup whose descendants are agents: connect4/6,
	// sockops and getpeername4/6 attach here. Every process below it is checked against the
	// endpoint map; processes that are no agent pass after one lookup.
	AgentCgroup string
	// EnforcerCgroup is the absolute path of the enforcer's own cgroup: getsockopt attaches here.
	EnforcerCgroup string
}

// Datapath is the loaded programs and maps, attached and pinned.
type Datapath struct {
	objs   mwObjects
	pinDir string
	links  []Attachment
	mu     sync.Mutex // serialises Apply
}

// Load loads the programs, reusing pinned maps under opts.PinDir, then attaches them: a hook
// that is already attached through a pinned link gets its program swapped in place.
func Load(opts Options) (*Datapath, error) {
	if opts.PinDir == "" {
		opts.PinDir = DefaultPinDir
	}
	if opts.AgentCgroup == "" || opts.EnforcerCgroup == "" {
		return nil, errors.New("load datapath: agent and enforcer cgroups are required")
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("remove memlock limit: %w", err)
	}
	if err := ensureBPFFS(opts.PinDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(opts.PinDir, "links"), 0o700); err != nil {
		return nil, fmt.Errorf("create pin directory %s: %w", opts.PinDir, err)
	}
	d := &Datapath{pinDir: opts.PinDir}
	err := loadMwObjects(&d.objs, &ebpf.CollectionOptions{Maps: ebpf.MapOptions{PinPath: opts.PinDir}})
	if err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			return nil, fmt.Errorf("load datapath programs: %+v", verr)
		}
		return nil, fmt.Errorf("load datapath programs (pins in %s): %w", opts.PinDir, err)
	}
	if d.links, err = attachAll(&d.objs, opts); err != nil {
		d.objs.Close()
		return nil, err
	}
	return d, nil
}

// Attachments reports every hook, its link id, its cgroup and whether this load created it.
func (d *Datapath) Attachments() []Attachment { return d.links }

// PinDir is where the maps and links are pinned.
func (d *Datapath) PinDir() string { return d.pinDir }

// Close releases this process's handles. Pinned links stay attached and pinned maps keep
// their contents: enforcement goes on without the daemon (fail closed).
func (d *Datapath) Close() error {
	var errs []error
	for _, a := range d.links {
		errs = append(errs, a.link.Close())
	}
	errs = append(errs, d.objs.Close())
	return errors.Join(errs...)
}

// Uninstall detaches every pinned program and removes the pinned maps under pinDir.
// Run it with the daemon stopped.
func Uninstall(pinDir string) error {
	if pinDir == "" {
		pinDir = DefaultPinDir
	}
	if err := detachPinnedLinks(filepath.Join(pinDir, "links")); err != nil {
		return err
	}
	if err := os.RemoveAll(pinDir); err != nil {
		return fmt.Errorf("remove pins in %s: %w", pinDir, err)
	}
	// Remove the empty parent (meshwarden/) too when nothing else is pinned there.
	_ = os.Remove(filepath.Dir(pinDir))
	return nil
}
