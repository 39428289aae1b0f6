package loader

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ensureBPFFS makes sure the bpffs that will hold pinDir is mounted, mounting
// /sys/fs/bpf when the pin directory lives there and nothing is mounted yet.
func ensureBPFFS(pinDir string) error {
	for dir := filepath.Clean(pinDir); ; dir = filepath.Dir(dir) {
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err == nil {
			if st.Type == unix.BPF_FS_MAGIC {
				return nil
			}
			break
		} else if !os.IsNotExist(err) {
			return fmt.Errorf("statfs %s: %w", dir, err)
		}
		if dir == "/" {
			break
		}
	}
	const root = "/sys/fs/bpf"
	if !strings.HasPrefix(filepath.Clean(pinDir)+"/", root+"/") {
		return fmt.Errorf("pin directory %s is not on a bpf filesystem", pinDir)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", root, err)
	}
	if err := unix.Mount("bpf", root, "bpf", 0, "mode=0700"); err != nil {
		return fmt.Errorf("mount bpffs at %s: %w", root, err)
	}
	return nil
}
