// Command mwclient is the test agent: an unchanged program that the tests start inside an
// agent's cgroup. It knows nothing of Meshwarden.
//
//	mwclient http URL            GET URL, print "STATUS BODY"
//	mwclient peer ADDR           connect, print the peer address getpeername() reports
//	mwclient tcp ADDR LINE       connect, send LINE, print the first line answered
//	mwclient load N C URL        N GETs at concurrency C, one connection each; print "ok=N failed=M"
//	mwclient connect-rate N ADDR N connect()s in a row, each closed at once; print "rate=R" per second
//	mwclient http-bench S C URL B  S seconds of POSTs with a B-byte body over C keep-alive connections;
//	                             print "rps=R p50_us=X p99_us=Y"
//	mwclient rpc-bench S C URL B   the same with B-byte JSON-RPC tools/call requests, each answer
//	                             checked to carry its request's id
//
// Errors go to stdout as "error: ..." with exit status 1, so tests can match EPERM.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: mwclient http|peer|tcp|load ...")
	}
	switch args[0] {
	case "http":
		body, status, err := get(newClient(false), args[1])
		if err != nil {
			return err
		}
		fmt.Printf("%d %s\n", status, body)
	case "http-seq":
		if len(args) != 3 {
			return fmt.Errorf("usage: mwclient http-seq N URL")
		}
		n, _ := strconv.Atoi(args[1])
		return sequence(n, args[2])
	case "peer":
		c, err := net.DialTimeout("tcp", args[1], 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Println(c.RemoteAddr())
	case "tcp":
		if len(args) != 3 {
			return fmt.Errorf("usage: mwclient tcp ADDR LINE")
		}
		c, err := net.DialTimeout("tcp", args[1], 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, args[2]+"\r\n"); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err
		}
		fmt.Print(line)
	case "load":
		if len(args) != 4 {
			return fmt.Errorf("usage: mwclient load N C URL")
		}
		n, _ := strconv.Atoi(args[1])
		conc, _ := strconv.Atoi(args[2])
		return load(n, conc, args[3])
	case "connect-rate":
		if len(args) != 3 {
			return fmt.Errorf("usage: mwclient connect-rate N ADDR")
		}
		n, _ := strconv.Atoi(args[1])
		return connectRate(n, args[2])
	case "rpc-bench":
		if len(args) != 5 {
			return fmt.Errorf("usage: mwclient rpc-bench SECONDS CONC URL BYTES")
		}
		secs, _ := strconv.ParseFloat(args[1], 64)
		conc, _ := strconv.Atoi(args[2])
		size, _ := strconv.Atoi(args[4])
		return rpcBench(time.Duration(secs*float64(time.Second)), conc, args[3], size)
	case "http-bench":
		if len(args) != 5 {
			return fmt.Errorf("usage: mwclient http-bench SECONDS CONC URL BYTES")
		}
		secs, _ := strconv.ParseFloat(args[1], 64)
		conc, _ := strconv.Atoi(args[2])
		size, _ := strconv.Atoi(args[4])
		return httpBench(time.Duration(secs*float64(time.Second)), conc, args[3], size)
	default:
		return fmt.Errorf("unknown mode %q", args[0])
	}
	return nil
}

func newClient(noKeepAlive bool) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: noKeepAlive}}
}

func get(c *http.Client, url string) (string, int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode, err
}

// sequence sends n GETs one after the other on one keep-alive connection and prints ok=N.
func sequence(n int, url string) error {
	c := newClient(false)
	for i := range n {
		if _, status, err := get(c, url); err != nil || status != 200 {
			return fmt.Errorf("request %d: status %d: %v", i+1, status, err)
		}
	}
	fmt.Printf("ok=%d\n", n)
	return nil
}

func load(n, conc int, url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newClient(true)
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if _, status, err := get(c, url); err != nil || status != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprint(status, err))
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	fmt.Printf("ok=%d failed=%d\n", ok.Load(), failed.Load())
	if e := firstErr.Load(); e != nil {
		fmt.Printf("first error: %v\n", e)
	}
	return nil
}
