package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/hubkit/hubkit/tests/load/internal/hist"
	"github.com/hubkit/hubkit/tests/load/internal/procfs"
)

// workerProc is one running worker process.
type workerProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	enc   *json.Encoder
	msgs  chan envelope
	pid   int
}

func spawnWorker(ctx context.Context, exe string, spec workerSpec, stderr io.Writer) (*workerProc, error) {
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), workerEnv+"=1")
	cmd.Stderr = stderr
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("load: starting worker: %w", err)
	}
	p := &workerProc{cmd: cmd, stdin: stdin, enc: json.NewEncoder(stdin), msgs: make(chan envelope, 4), pid: cmd.Process.Pid}
	go func() {
		defer close(p.msgs)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			var e envelope
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				e = envelope{Type: "fatal", Error: fmt.Sprintf("unparseable worker line %.80q", sc.Bytes())}
			}
			p.msgs <- e
		}
	}()
	if err := p.enc.Encode(spec); err != nil {
		return p, err
	}
	return p, nil
}

// next waits for the worker's next message of type want.
func (p *workerProc) next(ctx context.Context, want string, timeout time.Duration) (envelope, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case e, ok := <-p.msgs:
		switch {
		case !ok:
			return e, fmt.Errorf("load: worker %d exited early", p.pid)
		case e.Type == "fatal":
			return e, fmt.Errorf("load: worker %d: %s", p.pid, e.Error)
		case e.Type != want:
			return e, fmt.Errorf("load: worker %d sent %q, want %q", p.pid, e.Type, want)
		}
		return e, nil
	case <-t.C:
		return envelope{}, fmt.Errorf("load: worker %d: no %q within %v", p.pid, want, timeout)
	case <-ctx.Done():
		return envelope{}, ctx.Err()
	}
}

func (p *workerProc) stop() {
	_ = p.enc.Encode(command{Cmd: "quit"})
	_ = p.stdin.Close()
	done := make(chan struct{})
	go func() {
		_ = p.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// coordinator runs one load test.
type coordinator struct {
	cfg     config
	log     *slog.Logger
	proc    procfs.Root
	exe     string
	stderr  io.Writer
	workers []*workerProc
	joined  []int64 // per room, all workers
}

func splitRange(n, parts, i int) (lo, hi int) { return i * n / parts, (i + 1) * n / parts }

func (c *coordinator) serverRSS() ([]int64, int64, error) {
	out := make([]int64, len(c.cfg.PIDs))
	var total int64
	for i, pid := range c.cfg.PIDs {
		v, err := c.proc.RSS(pid)
		if err != nil {
			return nil, 0, fmt.Errorf("load: server pid %d: %w", pid, err)
		}
		out[i], total = v, total+v
	}
	return out, total, nil
}

func (c *coordinator) cpu(pids []int) (time.Duration, error) {
	var total time.Duration
	for _, pid := range pids {
		v, err := c.proc.CPU(pid)
		if err != nil {
			return 0, fmt.Errorf("load: pid %d: %w", pid, err)
		}
		total += v
	}
	return total, nil
}

func (c *coordinator) workerPIDs() []int {
	pids := make([]int, len(c.workers))
	for i, w := range c.workers {
		pids[i] = w.pid
	}
	return pids
}

func (c *coordinator) run(ctx context.Context) (*report, error) {
	cfg := c.cfg
	rep := newReport(cfg)
	defer func() {
		for _, w := range c.workers {
			w.stop()
		}
	}()

	var rssBefore []int64
	var totalBefore int64
	if len(cfg.PIDs) > 0 {
		var err error
		if rssBefore, totalBefore, err = c.serverRSS(); err != nil {
			return nil, err
		}
	}

	// Connect.
	start := time.Now()
	for i := range cfg.Procs {
		spec := workerSpec{
			Index: i, Targets: cfg.Targets, Subscribers: cfg.Subscribers, Publishers: cfg.Publishers,
			Rooms: cfg.Rooms, Sources: cfg.Sources, SourceBase: cfg.SourceBase,
			ConnectConcurrency: cfg.ConnectConcurrency, ConnectTimeout: cfg.ConnectTimeout, Pad: cfg.Pad,
		}
		spec.SubLo, spec.SubHi = splitRange(cfg.Subscribers, cfg.Procs, i)
		spec.PubLo, spec.PubHi = splitRange(cfg.Publishers, cfg.Procs, i)
		if cfg.Token != "" {
			spec.Auth, _ = json.Marshal(map[string]string{"token": cfg.Token})
		}
		w, err := spawnWorker(ctx, c.exe, spec, c.stderr)
		if w != nil {
			c.workers = append(c.workers, w)
		}
		if err != nil {
			return nil, err
		}
	}
	c.joined = make([]int64, cfg.Rooms*len(cfg.Targets))
	handshake := &hist.Histogram{}
	for _, w := range c.workers {
		e, err := w.next(ctx, "ready", cfg.ReadyTimeout)
		if err != nil {
			return nil, err
		}
		r := e.Ready
		rep.Connect.Connected += r.Connected
		rep.Connect.Failed += r.Failed
		for i, n := range r.Joined {
			if i < len(c.joined) {
				c.joined[i] += n
			}
		}
		handshake.Merge(r.Handshake)
		for _, m := range r.Errors {
			(*errorList)(&rep.Connect.Errors).add(m)
		}
	}
	rep.setConnect(time.Since(start), handshake)
	c.log.Info("connected", "clients", rep.Connect.Connected, "failed", rep.Connect.Failed,
		"seconds", rep.Connect.Seconds, "per_second", rep.Connect.PerSecond)
	if rep.Connect.Connected == 0 {
		return rep, errors.New("load: no client connected")
	}

	if len(cfg.PIDs) > 0 {
		if err := sleepCtx(ctx, cfg.Settle); err != nil {
			return rep, err
		}
		after, totalAfter, err := c.serverRSS()
		if err != nil {
			return rep, err
		}
		rep.setMemory(cfg, rssBefore, after, totalBefore, totalAfter)
		c.log.Info("idle memory", "per_connection_bytes", rep.Memory.PerConnectionBytes)
	}

	if cfg.Publishers == 0 || cfg.Rooms == 0 || cfg.Duration == 0 || cfg.Rate <= 0 {
		return rep, nil
	}
	rate := cfg.Rate
	steps := 1
	if cfg.RampFactor > 1 {
		steps = cfg.RampSteps
		rep.Ramp = &rampReport{MaxP99Ms: ms(cfg.RampMaxP99), Factor: cfg.RampFactor, Retries: cfg.RampRetries}
	}
	failures := 0 // consecutive failed phases at the current rate
	for phase, step := 1, 1; step <= steps; phase++ {
		pr, err := c.phase(ctx, phase, rate)
		if err != nil {
			return rep, err
		}
		pr.Retry = failures
		rep.Phases = append(rep.Phases, *pr)
		c.log.Info("phase", "phase", phase, "rate", rate, "deliveries_per_second", pr.DeliveriesPerSecond,
			"p99_ms", pr.Latency.P99Ms, "lost", pr.Lost, "pass", pr.Pass)
		if rep.Ramp == nil {
			break
		}
		if !pr.Pass {
			// On a shared machine one noisy phase should not end the ramp:
			// a rate fails only after 1+RampRetries failed phases in a row.
			if failures < cfg.RampRetries {
				failures++
				// Let the server work off the failed phase's backlog first.
				if err := sleepCtx(ctx, cfg.Drain); err != nil {
					return rep, err
				}
				continue
			}
			rep.Ramp.StopReason = fmt.Sprintf("phase %d at %.0f msgs/s (%d attempts): %s", phase, rate, failures+1, pr.FailReason)
			break
		}
		failures = 0
		step++
		rep.Ramp.HighestPassingPhase = phase
		rep.Ramp.RateMsgsPerSecond = rate
		rep.Ramp.HighestSustainedDeliveriesPerSecond = pr.DeliveriesPerSecond
		rate *= cfg.RampFactor
	}
	if rep.Ramp != nil && rep.Ramp.StopReason == "" {
		rep.Ramp.StopReason = fmt.Sprintf("ramp ended after %d steps without failing (raise -ramp-steps)", steps)
	}
	return rep, nil
}

// phase runs one publish phase on every worker and merges the results.
func (c *coordinator) phase(ctx context.Context, n int, rate float64) (*phaseReport, error) {
	cfg := c.cfg
	startAt := time.Now().Add(300 * time.Millisecond)
	cmd := command{Cmd: "publish", Phase: n, Rate: rate, StartNs: startAt.UnixNano(), Duration: cfg.Duration, Drain: cfg.Drain}
	for _, w := range c.workers {
		if err := w.enc.Encode(cmd); err != nil {
			return nil, fmt.Errorf("load: worker %d: %w", w.pid, err)
		}
	}
	if err := sleepCtx(ctx, time.Until(startAt)); err != nil {
		return nil, err
	}
	cpu0, err := c.cpu(cfg.PIDs)
	if err != nil {
		return nil, err
	}
	gen0, _ := c.cpu(c.workerPIDs())
	wall0 := time.Now()

	nt := len(cfg.Targets)
	merged := &phaseMsg{
		SentPerRoom: make([]int64, cfg.Rooms*nt), RecvByPair: make([]int64, nt*nt),
		Latency: &hist.Histogram{}, Same: &hist.Histogram{}, Cross: &hist.Histogram{},
	}
	var errs errorList
	for _, w := range c.workers {
		e, err := w.next(ctx, "phase", cfg.Duration+cfg.Drain+time.Minute)
		if err != nil {
			return nil, err
		}
		mergePhase(merged, e.Phase, &errs)
	}
	cpu1, err := c.cpu(cfg.PIDs)
	if err != nil {
		return nil, err
	}
	gen1, _ := c.cpu(c.workerPIDs())
	// Expected deliveries per (publisher target, subscriber target) pair.
	pairExpected := make([]int64, nt*nt)
	var expected int64
	for room := range cfg.Rooms {
		for from := range nt {
			sent := merged.SentPerRoom[room*nt+from]
			for to := range nt {
				e := sent * c.joined[room*nt+to]
				pairExpected[from*nt+to] += e
				expected += e
			}
		}
	}
	pr := newPhaseReport(n, rate, cfg, merged, expected)
	if nt > 1 {
		for from := range nt {
			for to := range nt {
				pr.Pairs = append(pr.Pairs, pairReport{
					From: from, To: to,
					Expected: pairExpected[from*nt+to], Received: merged.RecvByPair[from*nt+to],
				})
			}
		}
	}
	pr.Errors = errs
	pr.WindowSeconds = time.Since(wall0).Seconds()
	pr.ServerCPUSeconds = (cpu1 - cpu0).Seconds()
	pr.LoadgenCPUSeconds = (gen1 - gen0).Seconds()
	if pr.Received > 0 && len(cfg.PIDs) > 0 {
		pr.CPUPerDeliveryMicros = float64((cpu1 - cpu0).Microseconds()) / float64(pr.Received)
	}
	pr.LoadAvg1 = loadAvg1()
	pr.judge(cfg.RampMaxP99)
	return pr, nil
}

func mergePhase(dst, src *phaseMsg, errs *errorList) {
	for i, v := range src.SentPerRoom {
		if i < len(dst.SentPerRoom) {
			dst.SentPerRoom[i] += v
		}
	}
	for i, v := range src.RecvByPair {
		if i < len(dst.RecvByPair) {
			dst.RecvByPair[i] += v
		}
	}
	dst.Sent += src.Sent
	dst.SendErrors += src.SendErrors
	dst.Acked += src.Acked
	dst.AckErrors += src.AckErrors
	dst.Received += src.Received
	dst.Late += src.Late
	dst.Foreign += src.Foreign
	dst.Disconnects += src.Disconnects
	dst.MaxLagNs = max(dst.MaxLagNs, src.MaxLagNs)
	dst.Latency.Merge(src.Latency)
	dst.Same.Merge(src.Same)
	dst.Cross.Merge(src.Cross)
	for _, e := range src.Errors {
		errs.add(e)
	}
	slices.Sort(*errs)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
