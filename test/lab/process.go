package lab

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// DaemonPID returns the pid of the running daemon (of its launcher when there is one), 0 when
// it is not running.
func (m *Mesh) DaemonPID() int {
	if m.daemon == nil || m.daemon.Process == nil {
		return 0
	}
	return m.daemon.Process.Pid
}

// CPUTime returns the user plus system CPU time a process has used, from /proc/<pid>/stat.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: fields are counted after its closing paren.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, nil
}
