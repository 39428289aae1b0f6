package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/meshwarden/meshwarden/policy"
)

// policyPollInterval is how often the config file is checked for changes.
const policyPollInterval = time.Second

// watchPolicy reloads the policy on SIGHUP (always) and when the config file's content changes.
func (d *Daemon) watchPolicy(ctx context.Context, hup chan os.Signal) {
	defer signal.Stop(hup)
	tick := time.NewTicker(policyPollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			d.Reload(true)
		case <-tick.C:
			d.Reload(false)
		}
	}
}

// PolicyDigest names a policy file's content in audit records: the first 12 hex digits of
// its sha256.
func PolicyDigest(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:6])
}

// Reload reads the config file and, when forced or when its content changed since the last
// attempt, applies it in one switch. An invalid file, or one that changes what needs a
// restart, is refused and the running policy stays. Every attempt is audited with the
// file's digest. Unforced (the poll), changed content is applied only once two reads a poll
// apart agree: a file written in place is never loaded half written (a truncated file can be
// valid YAML that drops agents and revokes their credentials). SIGHUP applies at once.
func (d *Daemon) Reload(force bool) error {
	d.reload.Lock()
	defer d.reload.Unlock()
	data, err := os.ReadFile(d.opts.ConfigPath)
	if err != nil {
		d.log.Error("read policy for reload", "err", err)
		return err
	}
	sum := PolicyDigest(data)
	if !force && !settledChange(d.seen, &d.unsure, sum) {
		return nil
	}
	d.seen, d.unsure = sum, ""
	err = d.reloadFrom(data)
	d.policyReloaded(sum, err)
	if err != nil {
		d.log.Error("policy reload refused; the running policy stays", "err", err)
		d.system(fmt.Sprintf("policy reload refused (%s); the running policy stays: %v", sum, err))
		return err
	}
	d.system(fmt.Sprintf("policy reloaded (%s) from %s", sum, d.opts.ConfigPath))
	return nil
}

// settledChange reports whether the poll should load content sum, the running content being
// seen: only a change read twice in a row (unsure holds the digest of a change read once).
func settledChange(seen string, unsure *string, sum string) bool {
	switch {
	case sum == seen:
		*unsure = "" // changed and changed back: nothing to load
		return false
	case sum != *unsure:
		*unsure = sum // wait for the next poll to read the same
		return false
	}
	return true
}

func (d *Daemon) reloadFrom(data []byte) error {
	pol, err := policy.Parse(d.opts.ConfigPath, data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	if err := checkPayloadKey(pol, d.sealer); err != nil {
		return err
	}
	old := d.cur.Load().pol
	if pol.Enforcer != old.Enforcer {
		return fmt.Errorf("the enforcer block changed (%+v -> %+v): restart the daemon to apply it", old.Enforcer, pol.Enforcer)
	}
	attach, err := attachPoint(pol)
	if err != nil {
		return err
	}
	if attach != d.attach {
		return fmt.Errorf("the agents' parent cgroup changed (%s -> %s): restart the daemon to apply it", d.attach, attach)
	}
	if err := d.mesh.checkReload(old, pol); err != nil {
		return err
	}
	v, err := buildView(d.root, pol)
	if err != nil {
		return err
	}
	if err := d.apply(v); err != nil {
		return err
	}
	return d.mesh.reload(pol, d.opts.Node)
}
