package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// logger writes the agent's log: one wire.Entry per line. The first error is kept and
// reported by close.
type logger struct {
	f              *os.File
	w              *bufio.Writer
	enc            *json.Encoder
	err            error
	sent, received int
}

func newLogger(f *os.File) *logger {
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &logger{f: f, w: w, enc: enc}
}

func (l *logger) add(e wire.Entry) {
	if e.Direction == wire.Sent {
		l.sent++
	} else {
		l.received++
	}
	if l.err == nil {
		if err := l.enc.Encode(e); err != nil {
			l.err = fmt.Errorf("encode log entry: %w", err)
		}
	}
}

func (l *logger) close() error {
	if err := l.w.Flush(); err != nil && l.err == nil {
		l.err = err
	}
	if err := l.f.Close(); err != nil && l.err == nil {
		l.err = err
	}
	return l.err
}
