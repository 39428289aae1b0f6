package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/meshwarden/meshwarden/test/lab"
)

// nginxConf is an nginx reverse proxy on loopback that keeps connections to its upstream
// alive, as a production deployment would (listen %[2]s), and the same with nginx's default
// upstream handling, a new HTTP/1.0 upstream connection per request (listen %[4]s: how the
// baseline in the field notes was taken); every path of its own lives under the prefix.
const nginxConf = `worker_processes 1;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %[1]s/client_body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  upstream backend {
    server %[3]s;
    keepalive 64;
  }
  server {
    listen %[2]s;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
  server {
    listen %[4]s;
    location / {
      proxy_pass http://%[3]s;
    }
  }
}
`

// startNginx runs nginx (Debian's nginx or nginx-light) as a reverse proxy on listen to
// upstream (and on listenDefault with nginx's default upstream handling), with its
// configuration, pid file, logs and temporary files in a directory of its own, and stops it at
// the end of the run. It returns its worker's pid (0 when it cannot be
// told), and false when nginx is not installed.
func startNginx(r *lab.Runner, listen, listenDefault, upstream string) (worker int, ok bool) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return 0, false
	}
	dir, err := os.MkdirTemp("", "mwbench-nginx-")
	if err != nil {
		r.Fatalf("%v", err)
	}
	r.Cleanup(func() { os.RemoveAll(dir) })
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxConf, dir, listen, upstream, listenDefault)), 0o600); err != nil {
		r.Fatalf("%v", err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		r.Fatalf("start nginx: %v", err)
	}
	r.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGQUIT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", listen); err == nil {
			c.Close()
			return nginxWorker(cmd.Process.Pid), true
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.Fatalf("nginx did not listen on %s (see %s/error.log)", listen, dir)
	return 0, false
}

// nginxWorker returns the pid of the one worker process of the nginx master pid, 0 if unknown.
func nginxWorker(master int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", master, master))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 1 {
		return 0
	}
	pid, _ := strconv.Atoi(f[0])
	return pid
}
