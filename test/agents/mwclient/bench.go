package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"time"
)

// connectRate opens and resets n connections in a row. A refused connect() (EPERM under
// DENY) counts as one attempt: the rate measures the cost of the decision either way.
// It prints the rate and how many connects succeeded and how many were refused.
func connectRate(n int, addr string) error {
	d := net.Dialer{Timeout: 5 * time.Second}
	start := time.Now()
	ok, refused := 0, 0
	for i := 0; i < n; i++ {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			if errors.Is(err, syscall.EPERM) {
				refused++
				continue
			}
			return err
		}
		ok++
		c.(*net.TCPConn).SetLinger(0) // RST: no TIME_WAIT piles up on the client
		c.Close()
	}
	fmt.Printf("rate=%.0f ok=%d refused=%d\n", float64(n)/time.Since(start).Seconds(), ok, refused)
	return nil
}

// httpBench POSTs a size-byte body over conc keep-alive connections for d.
func httpBench(d time.Duration, conc int, url string, size int) error {
	body := bytes.Repeat([]byte("x"), size)
	return closedLoop(d, conc, func(c *http.Client, _, _ int) error {
		resp, err := c.Post(url, "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	})
}

// closedLoop runs one(client, worker, i) back to back on conc workers sharing conc keep-alive
// connections for d, i counting each worker's requests; it stops at the first error and
// prints the request rate and the 50th and 99th percentile latencies.
func closedLoop(d time.Duration, conc int, one func(c *http.Client, worker, i int) error) error {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	deadline := time.Now().Add(d)
	var (
		mu   sync.Mutex
		lats []time.Duration
		errs error
		wg   sync.WaitGroup
	)
	for w := range conc {
		wg.Go(func() {
			var mine []time.Duration
			for i := 0; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				if err := one(c, w, i); err != nil {
					mu.Lock()
					errs = errors.Join(errs, err)
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if errs != nil {
		return errs
	}
	if len(lats) == 0 {
		return errors.New("no request completed")
	}
	slices.Sort(lats)
	pct := func(p float64) float64 { return float64(lats[int(p*float64(len(lats)-1))].Microseconds()) }
	fmt.Printf("rps=%.0f p50_us=%.0f p99_us=%.0f\n", float64(len(lats))/d.Seconds(), pct(0.50), pct(0.99))
	return nil
}
