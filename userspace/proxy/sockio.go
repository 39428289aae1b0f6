package proxy

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// sockIO reads and writes a TCP connection's socket with raw read(2) and write(2) calls, and
// waits in Go's network poller only when the socket has nothing to read or no room to write.
//
// Why: the socket is non-blocking, so these calls never sleep in the kernel, yet Go's ordinary
// path treats every one as a call that might (it detaches the goroutine's processor and, when
// the process was idle, wakes the runtime's monitor thread first). At one exchange at a time
// the enforcer goes idle twice per exchange, so that was a futex wake-up and a context switch
// on the request's path twice per exchange (profiles in BENCHMARKS.md, issue 3). Deadlines,
// Close and the poller work as for net.Conn: waits go through syscall.RawConn.
type sockIO struct {
	conn net.Conn
	rc   syscall.RawConn
}

// newSockIO returns the reader and writer of conn's bytes: a sockIO for a TCP connection, conn
// itself for anything else (a node tunnel's stream, a test's pipe).
func newSockIO(conn net.Conn) io.ReadWriter {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return conn
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return conn
	}
	return &sockIO{conn: conn, rc: rc}
}

func (s *sockIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var (
		n    int
		serr syscall.Errno
	)
	err := s.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait in the poller
			}
			n, serr = int(r), e
			return true
		}
	})
	switch {
	case err != nil:
		return 0, s.opError("read", err)
	case serr != 0:
		return 0, s.opError("read", serr)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (s *sockIO) Write(p []byte) (int, error) {
	var (
		n    int
		serr syscall.Errno
	)
	err := s.rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n))
			switch e {
			case 0:
				n += int(r)
			case syscall.EAGAIN:
				return false // wait in the poller for room, then go on from n
			case syscall.EINTR:
			default:
				serr = e
				return true
			}
		}
		return true
	})
	switch {
	case err != nil:
		return n, s.opError("write", err)
	case serr != 0:
		return n, s.opError("write", serr)
	}
	return n, nil
}

func (s *sockIO) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: s.conn.LocalAddr(), Addr: s.conn.RemoteAddr(), Err: err}
}
