package agentleak

import (
	"encoding/json"
	"strings"
	"sync"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// Delivery is one message a service received, and the answer it sent back when that answer
// is a message too (a JSON-RPC result).
type Delivery struct {
	Service   string // user, memory, log, artifact, a2a, mcp
	Method    string
	Path      string
	RPCMethod string
	Tool      string          // tools/call: the tool called
	Body      json.RawMessage // as received (one JSON-RPC message)
	Answer    json.RawMessage // the JSON-RPC response sent back; nil for none
}

// RunConfig is what the services need to know of a run: the tool servers answer with the
// records shaped by the run's behaviour.
type RunConfig struct {
	Behaviour string
	Records   []wire.Record
	Allowed   []string
}

// Inbox is the services' log: deliveries grouped by run (the first path segment), and the
// configuration of the runs in progress.
type Inbox struct {
	mu   sync.Mutex
	runs map[string]*RunConfig
	got  map[string][]Delivery
}

func newInbox() *Inbox {
	return &Inbox{runs: map[string]*RunConfig{}, got: map[string][]Delivery{}}
}

// Arm announces a run before its agents start.
func (in *Inbox) Arm(run string, cfg RunConfig) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.runs[run] = &cfg
	delete(in.got, run)
}

// Take returns the deliveries of a run and forgets the run.
func (in *Inbox) Take(run string) []Delivery {
	in.mu.Lock()
	defer in.mu.Unlock()
	d := in.got[run]
	delete(in.got, run)
	delete(in.runs, run)
	return d
}

// config returns the configuration of the run a path belongs to.
func (in *Inbox) config(path string) (RunConfig, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	c, ok := in.runs[runOf(path)]
	if !ok {
		return RunConfig{}, false
	}
	return *c, true
}

// add logs a delivery; deliveries of unknown runs are kept too (a late message is evidence).
func (in *Inbox) add(d Delivery) {
	in.mu.Lock()
	defer in.mu.Unlock()
	run := runOf(d.Path)
	in.got[run] = append(in.got[run], d)
}

// runOf is the first segment of a path.
func runOf(path string) string {
	s := strings.TrimPrefix(path, "/")
	run, _, _ := strings.Cut(s, "/")
	return run
}
