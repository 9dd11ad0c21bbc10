package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hubkit/hubkit/tests/load/internal/procfs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// config is the parsed command line.
type config struct {
	Scenario           string        `json:"scenario"`
	Label              string        `json:"label"`
	Targets            []string      `json:"targets"`
	PIDs               []int         `json:"pids"`
	Subscribers        int           `json:"subscribers"`
	Publishers         int           `json:"publishers"`
	Rooms              int           `json:"rooms"`
	Rate               float64       `json:"rate"`
	Duration           time.Duration `json:"duration"`
	Drain              time.Duration `json:"drain"`
	Settle             time.Duration `json:"settle"`
	Procs              int           `json:"procs"`
	Sources            int           `json:"sources"`
	SourceBase         string        `json:"sourceBase"`
	ConnectConcurrency int           `json:"connectConcurrency"`
	ConnectTimeout     time.Duration `json:"connectTimeout"`
	ReadyTimeout       time.Duration `json:"readyTimeout"`
	RampFactor         float64       `json:"rampFactor"`
	RampSteps          int           `json:"rampSteps"`
	RampMaxP99         time.Duration `json:"rampMaxP99"`
	RampRetries        int           `json:"rampRetries"`
	Timeout            time.Duration `json:"timeout"`
	Token              string        `json:"-"`
	Pad                int           `json:"pad"`
	JSONPath           string        `json:"-"`
}

// presets are flag defaults per scenario; explicit flags win.
var presets = map[string]map[string]string{
	"idle":    {"clients": "10000", "publishers": "0", "rooms": "0", "settle": "10s"},
	"fanout":  {"clients": "3000", "rooms": "30", "publishers": "30", "rate": "300", "duration": "20s"},
	"cluster": {"clients": "600", "rooms": "100", "publishers": "30", "rate": "1000", "duration": "20s"},
	"ramp": {"clients": "3000", "rooms": "30", "publishers": "30", "rate": "100", "duration": "10s",
		"ramp-factor": "1.5", "ramp-steps": "12"},
}

// profileEnv names a file prefix; when set, every worker writes a CPU profile
// to <prefix>.<pid> (to see what the load generator itself costs).
const profileEnv = "HUBLOAD_CPUPROFILE"

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// maxPerProc is the most clients one worker process holds (the machine allows
// 20,000 open files per process; keep well under it).
const maxPerProc = 5000

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var (
		cfg           config
		targets, pids string
		fs            = flag.NewFlagSet("load", flag.ContinueOnError)
	)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Scenario, "scenario", "custom", "preset: idle, fanout, cluster, ramp or custom (explicit flags override the preset)")
	fs.StringVar(&cfg.Label, "label", "", "free text recorded in the report (e.g. node, go-hub)")
	fs.StringVar(&targets, "targets", "http://127.0.0.1:3000", "comma-separated server base URLs; clients are spread round-robin")
	fs.StringVar(&pids, "pids", "", "comma-separated server PIDs to sample RSS and CPU from /proc")
	fs.IntVar(&cfg.Subscribers, "clients", 100, "receiving clients (each joins one room when -rooms > 0)")
	fs.IntVar(&cfg.Publishers, "publishers", 0, "publishing clients (join nothing; publish round-robin over rooms)")
	fs.IntVar(&cfg.Rooms, "rooms", 0, "rooms; client i joins room-(i mod rooms); 0 = clients stay idle")
	fs.Float64Var(&cfg.Rate, "rate", 0, "total publishes per second over all publishers")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "length of each publish phase")
	fs.DurationVar(&cfg.Drain, "drain", 5*time.Second, "wait after a phase for in-flight deliveries; later ones count as lost (and as late in the next phase)")
	fs.DurationVar(&cfg.Settle, "settle", 5*time.Second, "wait after connecting before reading RSS")
	fs.IntVar(&cfg.Procs, "procs", 0, fmt.Sprintf("worker processes; 0 = one per %d clients", maxPerProc))
	fs.IntVar(&cfg.Sources, "sources", 4, "loopback source addresses to dial from")
	fs.StringVar(&cfg.SourceBase, "source-base", "127.0.0.2", "first source address")
	fs.IntVar(&cfg.ConnectConcurrency, "connect-concurrency", 64, "concurrent dials per worker")
	fs.DurationVar(&cfg.ConnectTimeout, "connect-timeout", 20*time.Second, "bound per client handshake+join")
	fs.DurationVar(&cfg.ReadyTimeout, "ready-timeout", 5*time.Minute, "bound on the whole connect phase")
	fs.Float64Var(&cfg.RampFactor, "ramp-factor", 0, "> 1: repeat the phase, multiplying -rate by this, until it fails")
	fs.IntVar(&cfg.RampSteps, "ramp-steps", 10, "most ramp phases")
	fs.DurationVar(&cfg.RampMaxP99, "ramp-max-p99", time.Second, "a phase fails when p99 exceeds this")
	fs.IntVar(&cfg.RampRetries, "ramp-retries", 1, "repeat a failed ramp phase at the same rate this many times before stopping")
	fs.DurationVar(&cfg.Timeout, "timeout", 15*time.Minute, "bound on the whole run")
	fs.StringVar(&cfg.Token, "token", "", "JWT sent as CONNECT auth {\"token\":...}")
	fs.IntVar(&cfg.Pad, "pad", 0, "extra payload bytes per message")
	fs.StringVar(&cfg.JSONPath, "json", "", "also write the JSON report to this file (- = stdout)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.Scenario != "custom" {
		preset, ok := presets[cfg.Scenario]
		if !ok {
			return cfg, fmt.Errorf("-scenario %q: want idle, fanout, cluster, ramp or custom", cfg.Scenario)
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range preset {
			if !set[name] {
				if err := fs.Set(name, v); err != nil {
					return cfg, err
				}
			}
		}
	}
	for _, t := range strings.Split(targets, ",") {
		if t = strings.TrimSpace(t); t != "" {
			cfg.Targets = append(cfg.Targets, t)
		}
	}
	for _, p := range strings.Split(pids, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return cfg, fmt.Errorf("-pids: %q is not a process id", p)
		}
		cfg.PIDs = append(cfg.PIDs, n)
	}
	if cfg.Procs == 0 {
		cfg.Procs = max(1, (cfg.Subscribers+cfg.Publishers+maxPerProc-1)/maxPerProc)
	}
	return cfg, cfg.validate()
}

func (c config) validate() error {
	var errs []error
	check := func(ok bool, format string, a ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	check(len(c.Targets) > 0, "-targets: need at least one URL")
	check(c.Subscribers >= 0 && c.Publishers >= 0 && c.Subscribers+c.Publishers > 0, "-clients/-publishers: need at least one client")
	check(c.Rooms >= 0, "-rooms: must be >= 0")
	check(c.Rate >= 0, "-rate: must be >= 0")
	check(c.Publishers == 0 || c.Rooms > 0, "-publishers needs -rooms > 0")
	check(c.Procs >= 1 && c.Procs <= 64, "-procs: 1..64")
	check((c.Subscribers+c.Publishers+c.Procs-1)/c.Procs <= 15000, "-procs %d: more than 15000 clients per process (20,000 open files limit)", c.Procs)
	check(c.Sources >= 1 && c.Sources <= 250, "-sources: 1..250")
	check(c.ConnectConcurrency >= 1, "-connect-concurrency: must be >= 1")
	check(c.Duration >= 0 && c.Duration <= time.Hour, "-duration: 0..1h")
	check(c.RampFactor == 0 || c.RampFactor > 1, "-ramp-factor: 0 (off) or > 1")
	check(c.RampSteps >= 1 && c.RampSteps <= 50, "-ramp-steps: 1..50")
	check(c.RampRetries >= 0 && c.RampRetries <= 5, "-ramp-retries: 0..5")
	check(c.Timeout > 0, "-timeout: must be > 0")
	check(c.Pad >= 0 && c.Pad <= 100000, "-pad: 0..100000")
	if _, err := sourceIP(c.SourceBase, c.Sources-1); err != nil {
		errs = append(errs, fmt.Errorf("-source-base/-sources: %w", err))
	}
	return errors.Join(errs...)
}

// run is the whole program; it is a worker when HUBLOAD_WORKER=1.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if os.Getenv(workerEnv) == "1" {
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("worker", os.Getpid())
		if prefix := os.Getenv(profileEnv); prefix != "" {
			stopProfile, err := startCPUProfile(fmt.Sprintf("%s.%d", prefix, os.Getpid()))
			if err != nil {
				return err
			}
			defer stopProfile()
		}
		return runWorker(ctx, stdin, stdout, log)
	}
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	c := &coordinator{
		cfg:    cfg,
		log:    slog.New(slog.NewTextHandler(stderr, nil)),
		proc:   procfs.Default,
		exe:    exe,
		stderr: stderr,
	}
	rep, runErr := c.run(ctx)
	if rep == nil {
		return runErr
	}
	rep.writeHuman(stdout)
	if cfg.JSONPath != "" {
		out, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		out = append(out, '\n')
		if cfg.JSONPath == "-" {
			_, err = stdout.Write(out)
		} else {
			err = os.WriteFile(cfg.JSONPath, out, 0o644)
		}
		if err != nil {
			return errors.Join(runErr, err)
		}
	}
	return runErr
}
