package api

import (
	"context"
	"errors"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// peerKey is the context key of a connection's peer credentials.
type peerKey struct{}

// peer is who is at the other end of a unix socket connection, from SO_PEERCRED (the kernel
// records it at connect(); the caller cannot forge it).
type peer struct {
	uid, gid uint32
	pid      int32
	err      error
}

// peerOf reads SO_PEERCRED of a unix socket connection.
func peerOf(c net.Conn) peer {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return peer{err: errors.New("not a unix socket connection")}
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return peer{err: fmt.Errorf("peer credentials: %w", err)}
	}
	var (
		cred *unix.Ucred
		cerr error
	)
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return peer{err: fmt.Errorf("peer credentials: %w", err)}
	}
	if cerr != nil {
		return peer{err: fmt.Errorf("peer credentials: %w", cerr)}
	}
	return peer{uid: cred.Uid, gid: cred.Gid, pid: cred.Pid}
}

// withPeer is the http.Server's ConnContext: it stores the connection's peer in its context.
func withPeer(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, peerKey{}, peerOf(c))
}

func peerFrom(ctx context.Context) peer {
	p, ok := ctx.Value(peerKey{}).(peer)
	if !ok {
		return peer{err: errors.New("no peer credentials")}
	}
	return p
}
