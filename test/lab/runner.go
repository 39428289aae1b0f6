package lab

import (
	"fmt"
	"io"
	"os"
)

// Runner is the lab's owner for a program (the benchmark, the AgentLeak replay) rather than a
// test: Fatalf stops the run, cleanups run at the end, in reverse order.
type Runner struct {
	Name string    // prefixes error lines
	Log  io.Writer // where Logf writes; nil drops the lab's log lines

	cleanups []func()
	failed   bool
}

type fatal struct{ msg string }

func (r *Runner) Helper()          {}
func (r *Runner) Failed() bool     { return r.failed }
func (r *Runner) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// Logf passes on the lab's log lines (the daemon's own warnings and errors) when Log is set.
func (r *Runner) Logf(format string, args ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, format+"\n", args...)
	}
}

func (r *Runner) Errorf(format string, args ...any) {
	r.failed = true
	fmt.Fprintf(os.Stderr, r.Name+": "+format+"\n", args...)
}

func (r *Runner) Fatalf(format string, args ...any) {
	r.failed = true
	panic(fatal{fmt.Sprintf(format, args...)})
}

// Run calls fn, then runs the cleanups (last first), and returns the exit status: 1 when fn
// called Fatalf or Errorf, 0 otherwise. A panic other than Fatalf's goes on after the cleanups.
func (r *Runner) Run(fn func()) (code int) {
	defer func() {
		p := recover()
		if f, ok := p.(fatal); ok {
			fmt.Fprintln(os.Stderr, r.Name+":", f.msg)
			p = nil
		}
		for i := len(r.cleanups) - 1; i >= 0; i-- {
			r.cleanups[i]()
		}
		if p != nil {
			panic(p)
		}
		if r.failed {
			code = 1
		}
	}()
	fn()
	return 0
}
