package topo

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
)

// FleetConfig configures a fleet of real socket.io-client clients spread
// over Node processes (js/clients.js).
type FleetConfig struct {
	URL        string
	Clients    int // total
	PerProcess int // default 100
	Rooms      int
	Total      int // sequence numbers per room
	Transports []string
	// TransportSets, when set, gives process i the transports
	// TransportSets[i % len] instead of Transports.
	TransportSets [][]string
	Deadline      time.Duration
}

// ClientResult is one client's report (see js/clients.js).
type ClientResult struct {
	ID           int      `json:"id"`
	Room         string   `json:"room"`
	SIDs         []string `json:"sids"`
	Engines      []string `json:"engines"`
	MgrReconn    int      `json:"managerReconnects"`
	Connects     int      `json:"connects"`
	Recovered    int      `json:"recovered"`
	NotRecovered int      `json:"notRecovered"`
	Received     int      `json:"received"`
	Unique       int      `json:"unique"`
	Dupes        int      `json:"dupes"`
	Missing      int      `json:"missing"`
	InOrder      bool     `json:"inOrder"`
	// InOrderAfterRedelivery: complete and in order once numbers received
	// a second time are dropped.
	InOrderAfterRedelivery bool  `json:"inOrderAfterRedelivery"`
	FirstProblem           any   `json:"firstProblem"`
	ReconnectMs            []int `json:"reconnectMs"`
	Connected              bool  `json:"connected"`
}

// AbortedConnects is how many engine reconnections of the client produced
// no Socket.IO connect (the connection died before the CONNECT ack).
func (r ClientResult) AbortedConnects() int { return r.MgrReconn - (r.Connects - 1) }

// Fleet is the running client processes.
type Fleet struct {
	t       testing.TB
	procs   []*Proc
	ready   chan struct{}
	results chan []ClientResult

	mu       sync.Mutex
	complete []bool // per process: every client connected with every number
}

// StartFleet starts the client processes and waits until every client
// connected and joined its room (60s at most).
func StartFleet(t testing.TB, cfg FleetConfig) *Fleet {
	t.Helper()
	node := Node(t)
	if cfg.PerProcess == 0 {
		cfg.PerProcess = 100
	}
	if cfg.Deadline == 0 {
		cfg.Deadline = 2 * time.Minute
	}
	f := &Fleet{t: t, ready: make(chan struct{}, 64), results: make(chan []ClientResult, 64)}
	script := filepath.Join(testenv.RepoRoot(t), "tests", "topology", "js", "clients.js")
	for first := 0; first < cfg.Clients; first += cfg.PerProcess {
		n := min(cfg.PerProcess, cfg.Clients-first)
		idx := len(f.complete)
		f.complete = append(f.complete, false)
		transports := cfg.Transports
		if len(cfg.TransportSets) > 0 {
			transports = cfg.TransportSets[idx%len(cfg.TransportSets)]
		}
		arg, _ := json.Marshal(map[string]any{"url": cfg.URL, "clients": n, "rooms": cfg.Rooms, "first": first,
			"total": cfg.Total, "transports": transports, "deadlineMs": cfg.Deadline.Milliseconds()})
		p := StartProcLines(t, fmt.Sprintf("clients@%d", first), node.Env(), nil, func(line string) {
			switch {
			case strings.HasPrefix(line, "READY "):
				f.ready <- struct{}{}
			case line == "COMPLETE" || line == "INCOMPLETE":
				f.mu.Lock()
				f.complete[idx] = line == "COMPLETE"
				f.mu.Unlock()
			case strings.HasPrefix(line, "RESULT "):
				var rs []ClientResult
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "RESULT ")), &rs); err != nil {
					t.Errorf("bad RESULT line: %v", err)
				}
				f.results <- rs
			}
		}, node.Bin, script, string(arg))
		f.procs = append(f.procs, p)
	}
	timeout := time.After(60 * time.Second)
	for range f.procs {
		select {
		case <-f.ready:
		case <-timeout:
			t.Fatalf("the clients did not all connect and join within 60s")
		}
	}
	return f
}

// WaitComplete polls until every client is connected and got every number,
// or timeout; it reports whether that happened.
func (f *Fleet) WaitComplete(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		all := !slices.Contains(f.complete, false)
		f.mu.Unlock()
		if all {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// Results asks every process for its report (SIGUSR2) and waits for them.
func (f *Fleet) Results(timeout time.Duration) []ClientResult {
	f.t.Helper()
	for _, p := range f.procs {
		p.Signal(syscall.SIGUSR2)
	}
	var all []ClientResult
	deadline := time.After(timeout)
	for range f.procs {
		select {
		case rs := <-f.results:
			all = append(all, rs...)
		case <-deadline:
			f.t.Fatalf("client reports missing after %v", timeout)
		}
	}
	slices.SortFunc(all, func(a, b ClientResult) int { return a.ID - b.ID })
	return all
}

// Percentile returns the p-th percentile (0..100) of ms, nearest rank.
func Percentile(ms []int, p float64) int {
	if len(ms) == 0 {
		return 0
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// Publisher publishes "seq" {n} to rooms r0..r<rooms-1>, n = 0..total-1,
// one goroutine per room (so each room's order is the publish order),
// through the replica Target returns at each call.
type Publisher struct {
	Rooms, Total int
	Interval     time.Duration // between two numbers of one room
	Target       func() *Hub

	mu   sync.Mutex
	errs []error
	sent []int
	wg   sync.WaitGroup
}

// Start starts publishing.
func (p *Publisher) Start(ctx context.Context) {
	p.sent = make([]int, p.Rooms)
	for r := range p.Rooms {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			tick := time.NewTicker(p.Interval)
			defer tick.Stop()
			for n := range p.Total {
				room := "r" + strconv.Itoa(r)
				if err := Publish(ctx, p.Target(), room, "seq", `{"n":`+strconv.Itoa(n)+`}`); err != nil {
					p.mu.Lock()
					p.errs = append(p.errs, fmt.Errorf("%s n=%d: %w", room, n, err))
					p.mu.Unlock()
				}
				p.mu.Lock()
				p.sent[r] = n + 1
				p.mu.Unlock()
				select {
				case <-tick.C:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
}

// Sent is the smallest count of numbers published to one room so far.
func (p *Publisher) Sent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Min(p.sent)
}

// WaitSent polls until every room got at least n numbers.
func (p *Publisher) WaitSent(n int) {
	for p.Sent() < n {
		time.Sleep(10 * time.Millisecond)
	}
}

// Wait waits for the end and returns the failed publishes.
func (p *Publisher) Wait() []error {
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errs
}
