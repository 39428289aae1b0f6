package agentleak

import (
	"time"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// Leak counts one kind of sensitive value (forbidden-field values, or canaries) in messages:
// how many times a message carried one, and what became of each.
type Leak struct {
	Attempts int // (message, value) pairs sent
	Blocked  int // the mesh refused the message (a DENY record says so)
	Redacted int // the message arrived without the value
	Leaked   int // the message arrived with the value
	// Undelivered: the message did not arrive and no record says the mesh refused it (a
	// failure of the replay or the relay, not a decision).
	Undelivered int
}

func (l *Leak) add(o Leak) {
	l.Attempts += o.Attempts
	l.Blocked += o.Blocked
	l.Redacted += o.Redacted
	l.Leaked += o.Leaked
	l.Undelivered += o.Undelivered
}

// ChannelStats is what one channel measured.
type ChannelStats struct {
	Messages int // messages sent
	Recorded int // of which the audit log holds with the right source agent and channel
	// Misses counts the messages not recorded, by outcome ("other channel: log", "no record").
	Misses map[string]int
	// Violating messages carried a forbidden value or a canary; ViolatingRecorded of them
	// are recorded.
	Violating, ViolatingRecorded int
	Forbidden, Canaries          Leak
	// Allowed values sent in compliant messages, and delivered intact.
	UtilityValues, UtilityIntact int
	// BlockReasons counts the reason codes of the records of refused messages.
	BlockReasons map[string]int
}

func newChannelStats() *ChannelStats {
	return &ChannelStats{Misses: map[string]int{}, BlockReasons: map[string]int{}}
}

func (c *ChannelStats) add(o *ChannelStats) {
	c.Messages += o.Messages
	c.Recorded += o.Recorded
	c.Violating += o.Violating
	c.ViolatingRecorded += o.ViolatingRecorded
	c.Forbidden.add(o.Forbidden)
	c.Canaries.add(o.Canaries)
	c.UtilityValues += o.UtilityValues
	c.UtilityIntact += o.UtilityIntact
	for k, v := range o.Misses {
		c.Misses[k] += v
	}
	for k, v := range o.BlockReasons {
		c.BlockReasons[k] += v
	}
}

// Stats are the measurements of one or more runs, by behaviour and channel.
type Stats map[string]map[string]*ChannelStats

// channel returns the stats of one behaviour and channel, created when absent.
func (s Stats) channel(behaviour, ch string) *ChannelStats {
	if s[behaviour] == nil {
		s[behaviour] = map[string]*ChannelStats{}
	}
	if s[behaviour][ch] == nil {
		s[behaviour][ch] = newChannelStats()
	}
	return s[behaviour][ch]
}

// Add adds o into s.
func (s Stats) Add(o Stats) {
	for b, chs := range o {
		for ch, c := range chs {
			s.channel(b, ch).add(c)
		}
	}
}

// Sum returns the stats of the given behaviours (all when none) and channels (all when
// none) added up.
func (s Stats) Sum(behaviours, channels []string) *ChannelStats {
	out := newChannelStats()
	if len(behaviours) == 0 {
		behaviours = []string{wire.Leaky, wire.Compliant}
	}
	for _, b := range behaviours {
		for ch, c := range s[b] {
			if len(channels) == 0 || contains(channels, ch) {
				out.add(c)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ScenarioResult is the outcome of one scenario.
type ScenarioResult struct {
	ID       string
	Vertical string
	Agents   int
	Duration time.Duration
	Stats    Stats
	// AllowedCanaries counts allowed values that carry a canary (left out of utility).
	AllowedCanaries int
	Err             error
}
