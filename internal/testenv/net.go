package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"
)

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago (the
// kernel picks it; another process may still take it before the caller
// binds). It fails the test when no port can be had.
func FreePort(tb testing.TB) int {
	tb.Helper()
	p, err := FindFreePort()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// FindFreePort is FreePort for code without a testing.TB.
func FindFreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// pollEvery is how often WaitTCP and WaitHTTP try again.
const pollEvery = 20 * time.Millisecond

// WaitTCP dials addr (host:port) until a connection is accepted, and
// returns nil then, or an error with the last dial error when ctx ends
// first.
func WaitTCP(ctx context.Context, addr string) error {
	var d net.Dialer
	for {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := d.DialContext(dctx, "tcp", addr)
		cancel()
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testenv: %s does not accept connections: %w (last: %v)", addr, ctx.Err(), err)
		case <-time.After(pollEvery):
		}
	}
}

// WaitHTTP GETs url (each request on a new connection, at most 5s) until
// it answers 200 OK, and returns nil then, or an error with the last status
// or request error when ctx ends first.
func WaitHTTP(ctx context.Context, url string) error {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	defer c.CloseIdleConnections()
	for {
		last := get(ctx, c, url)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testenv: GET %s not 200: %w (last: %v)", url, ctx.Err(), last)
		case <-time.After(pollEvery):
		}
	}
}

// get returns nil when url answers 200.
func get(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	return nil
}
