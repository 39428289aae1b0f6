package loader

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Attachment is one hook attached through a pinned link.
type Attachment struct {
	Hook     string // connect4, connect6, sendmsg4, sendmsg6, sockops, getpeername4, getpeername6, getsockopt
	Cgroup   string // absolute cgroup path
	CgroupID uint64
	LinkID   uint32
	Reused   bool // the pinned link already existed and got the new program with Update
	link     link.Link
}

type hook struct {
	name   string
	prog   *ebpf.Program
	attach ebpf.AttachType
	cgroup string
}

func hooks(objs *mwObjects, opts Options) []hook {
	return []hook{
		{"connect4", objs.MwConnect4, ebpf.AttachCGroupInet4Connect, opts.AgentCgroup},
		{"connect6", objs.MwConnect6, ebpf.AttachCGroupInet6Connect, opts.AgentCgroup},
		{"sendmsg4", objs.MwSendmsg4, ebpf.AttachCGroupUDP4Sendmsg, opts.AgentCgroup},
		{"sendmsg6", objs.MwSendmsg6, ebpf.AttachCGroupUDP6Sendmsg, opts.AgentCgroup},
		{"sockops", objs.MwSockops, ebpf.AttachCGroupSockOps, opts.AgentCgroup},
		{"getpeername4", objs.MwGetpeername4, ebpf.AttachCgroupInet4GetPeername, opts.AgentCgroup},
		{"getpeername6", objs.MwGetpeername6, ebpf.AttachCgroupInet6GetPeername, opts.AgentCgroup},
		{"getsockopt", objs.MwGetsockopt, ebpf.AttachCGroupGetsockopt, opts.EnforcerCgroup},
	}
}

func attachAll(objs *mwObjects, opts Options) ([]Attachment, error) {
	var out []Attachment
	for _, h := range hooks(objs, opts) {
		a, err := attachOne(h, filepath.Join(opts.PinDir, "links", h.name))
		if err != nil {
			for _, done := range out {
				done.link.Close()
			}
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// attachOne swaps the program of a pinned link on the same cgroup in place, or attaches a new
// link and only then retires a pinned link on another cgroup, so the hook is never absent.
func attachOne(h hook, pin string) (Attachment, error) {
	cgID, err := CgroupID(h.cgroup)
	if err != nil {
		return Attachment{}, err
	}
	a := Attachment{Hook: h.name, Cgroup: h.cgroup, CgroupID: cgID}

	old, err := link.LoadPinnedLink(pin, nil)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return a, fmt.Errorf("open pinned link %s: %w", pin, err)
	}
	if old != nil {
		info, ierr := old.Info()
		if ierr == nil && info.Cgroup() != nil && info.Cgroup().CgroupId == cgID {
			if err := old.Update(h.prog); err != nil {
				old.Close()
				return a, fmt.Errorf("swap program of %s on %s: %w", h.name, h.cgroup, err)
			}
			a.link, a.LinkID, a.Reused = old, uint32(info.ID), true
			return a, nil
		}
	}

	l, err := link.AttachCgroup(link.CgroupOptions{Path: h.cgroup, Attach: h.attach, Program: h.prog})
	if err != nil {
		if old != nil {
			old.Close()
		}
		return a, fmt.Errorf("attach %s to %s: %w", h.name, h.cgroup, err)
	}
	if old != nil {
		// The new attachment is live: the one on the former cgroup can go.
		if err := old.Unpin(); err != nil {
			l.Close()
			old.Close()
			return a, fmt.Errorf("unpin former %s link: %w", h.name, err)
		}
		old.Close()
	}
	if err := l.Pin(pin); err != nil {
		l.Close()
		return a, fmt.Errorf("pin %s link at %s: %w", h.name, pin, err)
	}
	info, err := l.Info()
	if err != nil {
		l.Close()
		return a, fmt.Errorf("read %s link info: %w", h.name, err)
	}
	a.link, a.LinkID = l, uint32(info.ID)
	return a, nil
}

// detachPinnedLinks detaches and unpins every link pinned in dir.
func detachPinnedLinks(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list pinned links in %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		l, err := link.LoadPinnedLink(p, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("open pinned link %s: %w", p, err))
			continue
		}
		if err := l.Detach(); err != nil && !errors.Is(err, unix.EOPNOTSUPP) {
			errs = append(errs, fmt.Errorf("detach %s: %w", p, err))
		}
		if err := l.Unpin(); err != nil {
			errs = append(errs, fmt.Errorf("unpin %s: %w", p, err))
		}
		l.Close()
	}
	return errors.Join(errs...)
}

// CgroupID is the id of the cgroup at path: the inode number of its directory, which is what
// bpf_get_current_cgroup_id() returns for a process inside it.
func CgroupID(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("stat cgroup %s: %w", path, err)
	}
	return st.Ino, nil
}
