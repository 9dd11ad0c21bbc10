package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
)

// process is one running component. Its output goes to a log file in the
// control plane's directory, which the error messages point to.
type process struct {
	name    string
	cmd     *exec.Cmd
	logFile string
	done    chan struct{} // closed when the process has exited
	err     error         // exit status, valid after done
}

// startProcess runs bin with args, output to dir/name.log. The child gets
// SIGKILL if the test process dies first.
func startProcess(log *slog.Logger, dir, name, bin string, args []string, env []string) (*process, error) {
	logFile := filepath.Join(dir, name+".log")
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("controlplane: start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logFile: logFile, done: make(chan struct{})}
	log.Debug("started", "component", name, "pid", cmd.Process.Pid, "log", logFile)
	go func() {
		p.err = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports an error if the process has already stopped.
func (p *process) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("controlplane: %s exited (%v); see %s:\n%s", p.name, p.err, p.logFile, tail(p.logFile, 30))
	default:
		return nil
	}
}

// stop sends SIGTERM and waits up to grace, then SIGKILL. It returns how long
// the process took to go.
func (p *process) stop(grace time.Duration) time.Duration {
	start := time.Now()
	select {
	case <-p.done:
		return 0
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	return time.Since(start)
}

// tail returns the last n lines of a file, for error messages.
func tail(file string, n int) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	lines := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			lines++
			if lines > n {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}

func freePorts(n int) ([]int, error) {
	seen := map[int]bool{}
	var ports []int
	for len(ports) < n {
		p, err := testenv.FindFreePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// pollUntil calls check every interval until it returns nil, ctx ends, or
// one of the processes exits. The last check error is part of the result.
func pollUntil(ctx context.Context, interval time.Duration, what string, procs []*process, check func(context.Context) error) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	var last error
	for {
		for _, p := range procs {
			if err := p.exited(); err != nil {
				return err
			}
		}
		if last = check(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("controlplane: waiting for %s: %w (last: %v)", what, ctx.Err(), last)
		case <-t.C:
		}
	}
}

var errNotYet = errors.New("not yet")

func itoa(i int) string { return strconv.Itoa(i) }
