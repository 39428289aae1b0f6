// Package cgroup finds the cgroup2 mount and creates, joins and removes cgroups in it.
package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Root returns the mount point of the cgroup2 hierarchy, read from /proc/self/mountinfo
// (/sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones).
func Root() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("read mountinfo: %w", err)
	}
	defer f.Close()
	return rootFrom(f)
}

func rootFrom(f *os.File) (string, error) {
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint opts [optional...] - fstype source superopts
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, x := range fields {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+1 >= len(fields) || len(fields) < 5 {
			continue
		}
		if fields[sep+1] == "cgroup2" && fields[3] == "/" {
			return unescapeMount(fields[4]), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("scan mountinfo: %w", err)
	}
	return "", errors.New("no cgroup2 hierarchy is mounted")
}

// unescapeMount undoes the octal escapes (\040 for a space) of mountinfo paths.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Ensure creates the cgroup at root/rel (and its parents) if absent and returns its path.
func Ensure(root, rel string) (string, error) {
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(p, 0o755); err != nil {
		return "", fmt.Errorf("create cgroup %s: %w", p, err)
	}
	return p, nil
}

// Join moves the calling process (all its threads) into the cgroup at path.
func Join(path string) error {
	pid := strconv.Itoa(os.Getpid())
	if err := os.WriteFile(filepath.Join(path, "cgroup.procs"), []byte(pid), 0); err != nil {
		return fmt.Errorf("join cgroup %s: %w", path, err)
	}
	return nil
}

// Open opens the cgroup directory for SysProcAttr.CgroupFD.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("open cgroup %s: %w", path, err)
	}
	return f, nil
}

// Procs lists the pids in the cgroup at path (not its descendants).
func Procs(path string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join(path, "cgroup.procs"))
	if err != nil {
		return nil, fmt.Errorf("read processes of cgroup %s: %w", path, err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("parse pid %q in %s: %w", f, path, err)
		}
		pids = append(pids, n)
	}
	return pids, nil
}

// RemoveTree removes the cgroup at path and every cgroup below it, deepest first. It kills
// the processes left inside first only when kill is true; otherwise a busy cgroup is an error.
func RemoveTree(path string, kill bool) error {
	var dirs []string
	err := filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("walk cgroup %s: %w", path, err)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if kill {
			if err := killAll(dirs[i]); err != nil {
				return err
			}
		}
		if err := rmdirRetry(dirs[i]); err != nil {
			return err
		}
	}
	return nil
}

func killAll(path string) error {
	pids, err := Procs(path)
	if err != nil {
		return err
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return nil
}

// rmdirRetry removes an empty cgroup; a process that just exited may keep it busy briefly.
func rmdirRetry(p string) error {
	var err error
	for i := 0; i < 50; i++ {
		err = unix.Rmdir(p)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", p, err)
}
