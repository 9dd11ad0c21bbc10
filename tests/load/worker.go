package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubkit/hubkit/tests/load/internal/hist"
	"github.com/hubkit/hubkit/tests/load/internal/sio"
)

// sourceIP returns base + offset within 127.0.0.0/8.
func sourceIP(base string, offset int) (net.IP, error) {
	ip := net.ParseIP(base).To4()
	if ip == nil || ip[0] != 127 {
		return nil, fmt.Errorf("load: source base %q is not a loopback IPv4 address", base)
	}
	n := binary.BigEndian.Uint32(ip) + uint32(offset)
	out := make(net.IP, 4)
	binary.BigEndian.PutUint32(out, n)
	if out[0] != 127 {
		return nil, fmt.Errorf("load: source %v leaves 127.0.0.0/8", out)
	}
	return out, nil
}

// httpClientFrom returns an HTTP client whose connections leave from ip.
func httpClientFrom(ip net.IP, timeout time.Duration) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: timeout}
	return &http.Client{Transport: &http.Transport{
		DialContext:         d.DialContext,
		DisableCompression:  true,
		MaxIdleConnsPerHost: -1,
	}}
}

// loadClient is one connected client and where it is connected.
type loadClient struct {
	c       *sio.Client
	global  int // publisher index for publishers, client index for subscribers
	replica int // index in Targets
}

// recvStats aggregates deliveries across all subscribers of a worker.
type recvStats struct {
	mu                   sync.Mutex
	phase                int // -1 between phases
	received, late, frgn int64
	all, same, cross     hist.Histogram
	disconnects          int64
	errs                 errorList
	targets              int
	byPair               []int64 // [publisher target*targets + subscriber target], this phase
}

func (s *recvStats) record(now int64, data []byte, replica int) {
	st, err := parseDelivery(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
		s.frgn++
	case st.Phase != s.phase:
		s.late++
	default:
		s.received++
		if st.Replica >= 0 && st.Replica < s.targets {
			s.byPair[st.Replica*s.targets+replica]++
		}
		lat := now - st.SentNs
		s.all.Record(lat)
		if st.Replica == replica {
			s.same.Record(lat)
		} else {
			s.cross.Record(lat)
		}
	}
}

func (s *recvStats) closed(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disconnects++
	s.errs.add("disconnect: " + err.Error())
}

// worker owns a share of the clients.
type worker struct {
	spec  workerSpec
	log   *slog.Logger
	stats recvStats

	subs, pubs []loadClient
	closing    atomic.Bool
}

// runWorker is the worker process: spec and commands on in, envelopes on out.
func runWorker(ctx context.Context, in io.Reader, out io.Writer, log *slog.Logger) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	enc := json.NewEncoder(out)
	if !sc.Scan() {
		return errors.New("load worker: no spec on stdin")
	}
	w := &worker{log: log}
	if err := json.Unmarshal(sc.Bytes(), &w.spec); err != nil {
		return fmt.Errorf("load worker: bad spec: %w", err)
	}
	w.stats.phase = -1
	w.stats.targets = len(w.spec.Targets)
	w.stats.byPair = make([]int64, w.stats.targets*w.stats.targets)
	defer w.closeAll()

	ready, err := w.connect(ctx)
	if err == nil && ready.Failed > 0 {
		w.log.Warn("clients failed to connect", "failed", ready.Failed, "connected", ready.Connected, "first_errors", ready.Errors)
	}
	if err != nil {
		_ = enc.Encode(envelope{Type: "fatal", Error: err.Error()})
		return err
	}
	if err := enc.Encode(envelope{Type: "ready", Ready: ready}); err != nil {
		return err
	}
	for sc.Scan() {
		var cmd command
		if err := json.Unmarshal(sc.Bytes(), &cmd); err != nil {
			return fmt.Errorf("load worker: bad command: %w", err)
		}
		switch cmd.Cmd {
		case "quit":
			return nil
		case "publish":
			res := w.publishPhase(ctx, cmd)
			for _, e := range res.Errors {
				w.log.Warn("phase error", "phase", res.Phase, "error", e)
			}
			if err := enc.Encode(envelope{Type: "phase", Phase: res}); err != nil {
				return err
			}
		default:
			return fmt.Errorf("load worker: unknown command %q", cmd.Cmd)
		}
	}
	return sc.Err() // EOF: the coordinator went away
}

func (w *worker) closeAll() {
	w.closing.Store(true)
	for _, lc := range append(w.subs, w.pubs...) {
		lc.c.Close()
	}
}

// connect dials every client of this worker, ConnectConcurrency at a time,
// and joins each subscriber to its room.
func (w *worker) connect(ctx context.Context) (*readyMsg, error) {
	sp := w.spec
	if len(sp.Targets) == 0 {
		return nil, errors.New("load worker: no targets")
	}
	clients := make([]*http.Client, max(sp.Sources, 1))
	for i := range clients {
		ip, err := sourceIP(sp.SourceBase, i)
		if err != nil {
			return nil, err
		}
		clients[i] = httpClientFrom(ip, sp.ConnectTimeout)
	}
	nt := len(sp.Targets)
	ready := &readyMsg{Joined: make([]int64, sp.Rooms*nt), Handshake: &hist.Histogram{}}
	var (
		mu   sync.Mutex
		errs errorList
		wg   sync.WaitGroup
		sem  = make(chan struct{}, max(sp.ConnectConcurrency, 1))
	)
	start := time.Now()
	dial := func(global, client int, subscriber bool) {
		defer wg.Done()
		defer func() { <-sem }()
		replica := global % len(sp.Targets)
		lc, room, took, err := w.dialOne(ctx, clients[client%len(clients)], global, replica, subscriber)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			ready.Failed++
			errs.add(err.Error())
			return
		}
		ready.Connected++
		ready.Handshake.RecordDuration(took)
		if subscriber {
			w.subs = append(w.subs, lc)
			if room >= 0 {
				ready.Joined[room*nt+lc.replica]++
			}
		} else {
			w.pubs = append(w.pubs, lc)
		}
	}
	for i := sp.SubLo; i < sp.SubHi; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go dial(i, i, true)
	}
	for j := sp.PubLo; j < sp.PubHi; j++ {
		sem <- struct{}{}
		wg.Add(1)
		go dial(j, sp.Subscribers+j, false)
	}
	wg.Wait()
	ready.ElapsedNs = int64(time.Since(start))
	ready.Errors = errs
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return ready, nil
}

func (w *worker) dialOne(ctx context.Context, hc *http.Client, global, replica int, subscriber bool) (lc loadClient, room int, took time.Duration, err error) {
	room = -1
	ctx, cancel := context.WithTimeout(ctx, w.spec.ConnectTimeout)
	defer cancel()
	start := time.Now()
	cfg := sio.Config{URL: w.spec.Targets[replica], HTTPClient: hc, Auth: w.spec.Auth}
	if subscriber {
		cfg.OnEvent = func(data []byte) { w.stats.record(time.Now().UnixNano(), data, replica) }
	}
	cfg.OnClose = func(err error) {
		if !w.closing.Load() {
			w.stats.closed(err)
		}
	}
	c, err := sio.Dial(ctx, cfg)
	if err != nil {
		return lc, room, 0, fmt.Errorf("dial %s: %w", cfg.URL, err)
	}
	lc = loadClient{c: c, global: global, replica: replica}
	if subscriber && w.spec.Rooms > 0 {
		r := global % w.spec.Rooms
		args, _ := json.Marshal([]string{"join", roomName(r)})
		data, err := c.Call(ctx, args)
		if err != nil {
			c.Close()
			return lc, room, 0, fmt.Errorf("join %s: %w", roomName(r), err)
		}
		if ok, msg := ackOK(data); !ok {
			c.Close()
			return lc, room, 0, fmt.Errorf("join %s refused: %s", roomName(r), msg)
		}
		room = r
	}
	return lc, room, time.Since(start), nil
}

// publishPhase runs one publish phase and returns this worker's share of it.
func (w *worker) publishPhase(ctx context.Context, cmd command) *phaseMsg {
	sp := w.spec
	w.stats.mu.Lock()
	w.stats.phase = cmd.Phase
	w.stats.mu.Unlock()

	nt := len(sp.Targets)
	res := &phaseMsg{Phase: cmd.Phase, SentPerRoom: make([]int64, sp.Rooms*nt)}
	start := time.Unix(0, cmd.StartNs)
	end := start.Add(cmd.Duration)
	var (
		mu             sync.Mutex
		errs           errorList
		acked, ackErrs atomic.Int64
		sent, sendErrs atomic.Int64
		maxLag         atomic.Int64
		wg             sync.WaitGroup
		perRoom        = make([]atomic.Int64, max(sp.Rooms*nt, 1))
		interval       time.Duration
		publishing     = cmd.Rate > 0 && sp.Publishers > 0 && sp.Rooms > 0
		pad            = strings.Repeat("x", sp.Pad)
		onAck          = func(data []byte) {
			if ok, msg := ackOK(data); ok {
				acked.Add(1)
			} else {
				ackErrs.Add(1)
				mu.Lock()
				errs.add("publish ack: " + msg)
				mu.Unlock()
			}
		}
	)
	if publishing {
		interval = time.Duration(float64(time.Second) * float64(sp.Publishers) / cmd.Rate)
	}
	for _, p := range w.pubs {
		if !publishing {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			offset := interval * time.Duration(p.global) / time.Duration(sp.Publishers)
			var buf []byte
			for k := int64(0); ; k++ {
				due := start.Add(offset + time.Duration(k)*interval)
				if !due.Before(end) || ctx.Err() != nil {
					return
				}
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				} else if lag := int64(-d); lag > maxLag.Load() {
					maxLag.Store(lag) // racy max is fine: it is a diagnostic
				}
				room := (p.global + int(k)) % sp.Rooms
				st := stamp{Phase: cmd.Phase, Seq: k, Replica: p.replica, SentNs: time.Now().UnixNano()}
				buf = appendPublish(buf[:0], room, st, pad)
				if err := p.c.EmitAck(ctx, buf, onAck); err != nil {
					sendErrs.Add(1)
					mu.Lock()
					errs.add("publish: " + err.Error())
					mu.Unlock()
					continue
				}
				sent.Add(1)
				perRoom[room*nt+p.replica].Add(1)
			}
		}()
	}
	wg.Wait()
	if d := time.Until(end.Add(cmd.Drain)); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}

	s := &w.stats
	s.mu.Lock()
	s.phase = -1
	res.Received, res.Late, res.Foreign, res.Disconnects = s.received, s.late, s.frgn, s.disconnects
	res.RecvByPair = s.byPair
	s.byPair = make([]int64, len(s.byPair))
	all, same, cross := s.all, s.same, s.cross // copies; Reset below gives new storage
	res.Latency, res.Same, res.Cross = &all, &same, &cross
	s.all, s.same, s.cross = hist.Histogram{}, hist.Histogram{}, hist.Histogram{}
	s.received, s.late, s.frgn, s.disconnects = 0, 0, 0, 0
	recvErrs := s.errs
	s.errs = nil
	s.mu.Unlock()

	mu.Lock()
	defer mu.Unlock()

	for i := range res.SentPerRoom {
		res.SentPerRoom[i] = perRoom[i].Load()
	}
	res.Sent, res.SendErrors = sent.Load(), sendErrs.Load()
	res.Acked, res.AckErrors = acked.Load(), ackErrs.Load()
	res.MaxLagNs = maxLag.Load()
	for _, e := range recvErrs {
		errs.add(e)
	}
	res.Errors = append([]string(nil), errs...)
	return res
}
