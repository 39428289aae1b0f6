package agentleak

import (
	"fmt"
	"io"
	"time"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// Progress returns a progress callback for Replay that writes one line per scenario to w:
// its coverage, leaks and utility, and an estimate of the time left.
func Progress(w io.Writer) func(done, total int, r ScenarioResult) {
	start := time.Now()
	return func(done, total int, r ScenarioResult) {
		left := time.Duration(float64(time.Since(start)) / float64(done) * float64(total-done))
		if r.Err != nil {
			fmt.Fprintf(w, "[%d/%d] %s FAILED after %s: %v\n", done, total, r.ID, r.Duration.Round(time.Millisecond), r.Err)
			return
		}
		all := r.Stats.Sum(nil, nil)
		util := r.Stats.Sum([]string{wire.Compliant}, nil)
		fmt.Fprintf(w, "[%d/%d] %s %d agent(s) %s: coverage %s (%d/%d), leaked %d, utility %s; ~%s left\n",
			done, total, r.ID, r.Agents, r.Duration.Round(time.Millisecond), pct(all.Recorded, all.Messages), all.Recorded, all.Messages,
			all.Forbidden.Leaked+all.Canaries.Leaked, pct(util.UtilityIntact, util.UtilityValues), left.Round(time.Second))
	}
}
