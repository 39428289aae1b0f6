package mux

import (
	"log/slog"
	"time"
)

// Defaults of Config.
const (
	DefaultMaxStreams = 256
	DefaultWindow     = 256 << 10
	maxWindow         = 16 << 20
)

// Config tunes one side of a session.
type Config struct {
	// MaxStreams bounds the streams open at once on the session: the server refuses more, and a
	// client's Open waits for a free slot (it uses the smaller of its own and the server's
	// bound). DefaultMaxStreams when zero.
	MaxStreams int
	// Window is the receive window this side grants each stream: the most bytes of one stream
	// it buffers. DefaultWindow when zero; at most 16 MiB.
	Window int
	// KeepAlive sends a PING after the connection has been silent this long; zero disables it.
	KeepAlive time.Duration
	// KeepAliveTimeout closes the session when nothing at all arrives for this long after a
	// PING; KeepAlive when zero.
	KeepAliveTimeout time.Duration
	// Logger may be nil: slog.Default() is used.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MaxStreams <= 0 {
		c.MaxStreams = DefaultMaxStreams
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	c.Window = min(c.Window, maxWindow)
	if c.KeepAliveTimeout <= 0 {
		c.KeepAliveTimeout = c.KeepAlive
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
