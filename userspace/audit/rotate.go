package audit

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rotatedName is where the current file goes when it is rotated: its name with the seq of
// its first record appended, zero-padded so names sort in chain order.
func rotatedName(path string, firstSeq uint64) string {
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s-%020d%s", strings.TrimSuffix(path, ext), firstSeq, ext)
}

type rotatedFile struct {
	path     string
	firstSeq uint64
}

// rotatedFiles lists the rotated files of the log at path, oldest first.
func rotatedFiles(path string) ([]rotatedFile, error) {
	dir := filepath.Dir(path)
	ext := filepath.Ext(path)
	prefix := strings.TrimSuffix(filepath.Base(path), ext) + "-"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list rotated audit logs: %w", err)
	}
	var files []rotatedFile
	for _, e := range entries {
		name := e.Name()
		digits, ok := strings.CutPrefix(name, prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if digits, ok = strings.CutSuffix(digits, ext); !ok || len(digits) != 20 {
			continue
		}
		seq, err := strconv.ParseUint(digits, 10, 64)
		if err != nil {
			continue
		}
		files = append(files, rotatedFile{filepath.Join(dir, name), seq})
	}
	slices.SortFunc(files, func(a, b rotatedFile) int { return cmp.Compare(a.firstSeq, b.firstSeq) })
	return files, nil
}

// rotationDue reports whether the current file is big or old enough to be rotated.
func (c *committer) rotationDue(now time.Time) bool {
	o := c.w.opts
	if c.fileFirstSeq == 0 {
		return false
	}
	return (o.MaxBytes > 0 && c.size >= o.MaxBytes) || (o.MaxAge > 0 && now.Sub(c.fileStart) >= o.MaxAge)
}

// rotate ends the current file with a checkpoint, renames it after its first seq, applies the
// retention limit and starts a new file whose first record says where the chain came from.
func (c *committer) rotate(now time.Time) error {
	path := c.w.opts.Path
	if c.since > 0 {
		b := c.batch()
		c.addCheckpoint(&b, now)
		if err := c.flush(&b, now); err != nil {
			return err
		}
	}
	from, to := c.fileFirstSeq, c.head.seq
	dst := rotatedName(path, from)
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("rotate audit log: %s already exists", dst)
	}
	if err := c.closeFile(); err != nil {
		return fmt.Errorf("close audit log for rotation: %w", err)
	}
	if err := os.Rename(path, dst); err != nil {
		return fmt.Errorf("rotate audit log: %w", err)
	}
	dir := filepath.Dir(path)
	if err := syncDir(dir); err != nil {
		return err
	}
	removed := c.retain()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open audit log %s: %w", path, err)
	}
	c.f, c.size, c.fileFirstSeq, c.fileStart = f, 0, 0, time.Time{}
	if err := syncDir(dir); err != nil {
		return err
	}
	c.w.rotations.Add(1)
	c.w.log.Info("audit log rotated", "path", dst, "first_seq", from, "last_seq", to)
	msg := fmt.Sprintf("audit log rotated: seq %d to %d are in %s", from, to, filepath.Base(dst))
	if len(removed) > 0 {
		msg += "; retention removed " + strings.Join(removed, ", ")
	}
	b := c.batch()
	c.addRecord(&b, Record{Kind: KindSystem, Message: msg}, now)
	return c.flush(&b, now)
}

// retain removes the oldest rotated files beyond MaxFiles and returns their names. Failing to
// remove one is logged, not fatal: it only keeps more than asked.
func (c *committer) retain() []string {
	o := c.w.opts
	if o.MaxFiles <= 0 {
		return nil
	}
	files, err := rotatedFiles(o.Path)
	if err != nil {
		c.w.log.Warn("audit retention", "err", err)
		return nil
	}
	var removed []string
	for _, f := range files[:max(0, len(files)-o.MaxFiles)] {
		if err := os.Remove(f.path); err != nil {
			c.w.log.Warn("audit retention: remove failed", "path", f.path, "err", err)
			continue
		}
		c.w.log.Info("audit retention removed a rotated log", "path", f.path)
		removed = append(removed, filepath.Base(f.path))
	}
	if len(removed) > 0 {
		if err := syncDir(filepath.Dir(o.Path)); err != nil {
			c.w.log.Warn("audit retention", "err", err)
		}
	}
	return removed
}
