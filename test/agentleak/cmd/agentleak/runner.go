package main

import (
	"fmt"
	"os"
)

// runner is the lab's owner for a program: Fatalf stops the run, cleanups run at the end.
type runner struct {
	cleanups []func()
	failed   bool
}

type fatal struct{ msg string }

func (r *runner) Helper()          {}
func (r *runner) Failed() bool     { return r.failed }
func (r *runner) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// Logf shows the daemon's own warnings and errors (the lab passes them on).
func (r *runner) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

func (r *runner) Errorf(format string, args ...any) {
	r.failed = true
	fmt.Fprintf(os.Stderr, "agentleak: "+format+"\n", args...)
}

func (r *runner) Fatalf(format string, args ...any) {
	r.failed = true
	panic(fatal{fmt.Sprintf(format, args...)})
}

// finish runs the cleanups (last first) and turns a Fatalf into exit status 1.
func (r *runner) finish(code *int) {
	if p := recover(); p != nil {
		f, ok := p.(fatal)
		if !ok {
			panic(p)
		}
		fmt.Fprintln(os.Stderr, "agentleak:", f.msg)
		*code = 1
	}
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	if r.failed {
		*code = 1
	}
}
