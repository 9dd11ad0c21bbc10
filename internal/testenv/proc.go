package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"testing"
	"time"
)

// StartCmd starts cmd and registers its stop with tb.Cleanup: the process
// is killed by PID and waited for. A failed start fails the test.
func StartCmd(tb testing.TB, cmd *exec.Cmd) {
	tb.Helper()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
}

// FirstLine returns the first line r yields (without its newline), for a
// child process that announces readiness (its port, say) on stdout. It
// then keeps reading r to the end in the background and discards it, so the
// child never blocks on a full pipe. It returns an error when r ends before
// a line, or after timeout (the reader goroutine ends when r does, which
// for a pipe is when the process exits).
func FirstLine(r io.Reader, timeout time.Duration) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		br := bufio.NewReader(r)
		line, err := br.ReadString('\n')
		switch {
		case err == nil:
			ch <- result{line: trimEOL(line)}
		case errors.Is(err, io.EOF) && line != "":
			ch <- result{line: trimEOL(line)}
		case errors.Is(err, io.EOF):
			ch <- result{err: errors.New("testenv: output ended before the first line")}
		default:
			ch <- result{err: err}
		}
		_, _ = io.Copy(io.Discard, br)
	}()
	select {
	case res := <-ch:
		return res.line, res.err
	case <-time.After(timeout):
		return "", fmt.Errorf("testenv: no first line within %v", timeout)
	}
}

func trimEOL(s string) string {
	if n := len(s); n > 0 && s[n-1] == '\n' {
		s = s[:n-1]
	}
	if n := len(s); n > 0 && s[n-1] == '\r' {
		s = s[:n-1]
	}
	return s
}
