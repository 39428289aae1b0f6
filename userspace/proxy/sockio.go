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
	// The state of the read and of the write in progress, and the callbacks RawConn runs
	// (made once: a closure per call would be an allocation per call). A sockIO has at most
	// one reader and one writer at a time, like a net.Conn used by one goroutine per direction.
	rd, wr  ioState
	readFn  func(fd uintptr) bool
	writeFn func(fd uintptr) bool
}

// ioState is one direction's call in progress: its buffer, the bytes done, the error.
type ioState struct {
	p     []byte
	n     int
	errno syscall.Errno
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
	s := &sockIO{conn: conn, rc: rc}
	s.readFn, s.writeFn = s.readSome, s.writeAll
	return s
}

func (s *sockIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.rd = ioState{p: p}
	err := s.rc.Read(s.readFn)
	n, errno := s.rd.n, s.rd.errno
	s.rd.p = nil
	switch {
	case err != nil:
		return 0, s.opError("read", err)
	case errno != 0:
		return 0, s.opError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// readSome is one read(2) of the read in progress; false asks the poller to wait for input.
func (s *sockIO) readSome(fd uintptr) bool {
	p := s.rd.p
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		s.rd.n, s.rd.errno = int(r), e
		return true
	}
}

func (s *sockIO) Write(p []byte) (int, error) {
	s.wr = ioState{p: p}
	err := s.rc.Write(s.writeFn)
	n, errno := s.wr.n, s.wr.errno
	s.wr.p = nil
	switch {
	case err != nil:
		return n, s.opError("write", err)
	case errno != 0:
		return n, s.opError("write", errno)
	}
	return n, nil
}

// writeAll writes the rest of the write in progress; false asks the poller to wait for room.
func (s *sockIO) writeAll(fd uintptr) bool {
	p := s.wr.p
	for s.wr.n < len(p) {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[s.wr.n])), uintptr(len(p)-s.wr.n))
		switch e {
		case 0:
			s.wr.n += int(r)
		case syscall.EAGAIN:
			return false
		case syscall.EINTR:
		default:
			s.wr.errno = e
			return true
		}
	}
	return true
}

func (s *sockIO) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: s.conn.LocalAddr(), Addr: s.conn.RemoteAddr(), Err: err}
}
