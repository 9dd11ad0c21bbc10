package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/hubkit/hubkit/tests/load/internal/hist"
)

// report is the tool's output; it is written as JSON with -json.
type report struct {
	Label    string        `json:"label"`
	Scenario string        `json:"scenario"`
	Date     time.Time     `json:"date"`
	Host     hostInfo      `json:"host"`
	Args     []string      `json:"args"`
	Config   config        `json:"config"`
	Connect  connectReport `json:"connect"`
	Memory   *memoryReport `json:"memory,omitempty"`
	Phases   []phaseReport `json:"phases,omitempty"`
	Ramp     *rampReport   `json:"ramp,omitempty"`
}

type hostInfo struct {
	CPUs          int     `json:"cpus"`
	MemTotalBytes int64   `json:"memTotalBytes"`
	LoadAvg1Start float64 `json:"loadAvg1Start"` // 1-minute load average when the run began
}

type connectReport struct {
	Clients        int      `json:"clients"`
	Connected      int      `json:"connected"`
	Failed         int      `json:"failed"`
	Seconds        float64  `json:"seconds"`
	PerSecond      float64  `json:"perSecond"`
	HandshakeP50Ms float64  `json:"handshakeP50Ms"`
	HandshakeP99Ms float64  `json:"handshakeP99Ms"`
	HandshakeMaxMs float64  `json:"handshakeMaxMs"`
	Errors         []string `json:"errors,omitempty"`
}

type memoryReport struct {
	PIDs               []int   `json:"pids"`
	BeforeBytes        []int64 `json:"beforeBytes"`
	AfterBytes         []int64 `json:"afterBytes"`
	TotalBeforeBytes   int64   `json:"totalBeforeBytes"`
	TotalAfterBytes    int64   `json:"totalAfterBytes"`
	Connections        int     `json:"connections"`
	PerConnectionBytes float64 `json:"perConnectionBytes"`
	SettleSeconds      float64 `json:"settleSeconds"`
}

type latencyReport struct {
	Count  uint64  `json:"count"`
	P50Ms  float64 `json:"p50Ms"`
	P90Ms  float64 `json:"p90Ms"`
	P99Ms  float64 `json:"p99Ms"`
	MaxMs  float64 `json:"maxMs"`
	MeanMs float64 `json:"meanMs"`
}

type phaseReport struct {
	Phase                int           `json:"phase"`
	Retry                int           `json:"retry"` // 0 = first attempt at this rate
	TargetRate           float64       `json:"targetRateMsgsPerSecond"`
	Seconds              float64       `json:"seconds"`
	WindowSeconds        float64       `json:"cpuWindowSeconds"`
	Sent                 int64         `json:"sent"`
	SendErrors           int64         `json:"sendErrors"`
	Acked                int64         `json:"acked"`
	AckErrors            int64         `json:"ackErrors"`
	Expected             int64         `json:"expectedDeliveries"`
	Received             int64         `json:"receivedDeliveries"`
	Lost                 int64         `json:"lost"`
	Extra                int64         `json:"extra"`
	Late                 int64         `json:"late"`
	Foreign              int64         `json:"foreign"`
	Disconnects          int64         `json:"disconnects"`
	SentPerSecond        float64       `json:"sentPerSecond"`
	DeliveriesPerSecond  float64       `json:"deliveriesPerSecond"`
	Latency              latencyReport `json:"latency"`
	SameReplica          latencyReport `json:"sameReplica"`
	CrossReplica         latencyReport `json:"crossReplica"`
	ServerCPUSeconds     float64       `json:"serverCpuSeconds"`
	CPUPerDeliveryMicros float64       `json:"cpuPerDeliveryMicros"`
	LoadgenCPUSeconds    float64       `json:"loadgenCpuSeconds"`
	MaxPublisherLagMs    float64       `json:"maxPublisherLagMs"`
	LoadAvg1             float64       `json:"loadAvg1"` // 1-minute load average at the end of the phase
	Pass                 bool          `json:"pass"`
	FailReason           string        `json:"failReason,omitempty"`
	Pairs                []pairReport  `json:"pairs,omitempty"` // with several targets
	Errors               []string      `json:"errors,omitempty"`
}

// pairReport counts deliveries from publishers on target From to subscribers
// on target To (indexes into Targets).
type pairReport struct {
	From     int   `json:"from"`
	To       int   `json:"to"`
	Expected int64 `json:"expected"`
	Received int64 `json:"received"`
}

type rampReport struct {
	MaxP99Ms                            float64 `json:"maxP99Ms"`
	Factor                              float64 `json:"factor"`
	Retries                             int     `json:"retries"`
	HighestPassingPhase                 int     `json:"highestPassingPhase"`
	RateMsgsPerSecond                   float64 `json:"rateMsgsPerSecond"`
	HighestSustainedDeliveriesPerSecond float64 `json:"highestSustainedDeliveriesPerSecond"`
	StopReason                          string  `json:"stopReason"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func nsToMs(ns int64) float64 { return float64(ns) / 1e6 }

func latency(h *hist.Histogram) latencyReport {
	return latencyReport{
		Count: h.Count(),
		P50Ms: nsToMs(h.Quantile(0.5)), P90Ms: nsToMs(h.Quantile(0.9)), P99Ms: nsToMs(h.Quantile(0.99)),
		MaxMs: nsToMs(h.Max()), MeanMs: h.Mean() / 1e6,
	}
}

func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var kb int64
	for _, line := range strings.Split(string(b), "\n") {
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
			return kb * 1024
		}
	}
	return 0
}

// loadAvg1 is the host's 1-minute load average (0 if unreadable): the machine
// is shared, so every number is reported next to how busy it was.
func loadAvg1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var v float64
	_, _ = fmt.Sscanf(string(b), "%f", &v)
	return v
}

func newReport(cfg config) *report {
	return &report{
		Label: cfg.Label, Scenario: cfg.Scenario, Date: time.Now().UTC(),
		Host:   hostInfo{CPUs: runtime.NumCPU(), MemTotalBytes: memTotal(), LoadAvg1Start: loadAvg1()},
		Args:   os.Args[1:],
		Config: cfg,
		Connect: connectReport{
			Clients: cfg.Subscribers + cfg.Publishers,
		},
	}
}

func (r *report) setConnect(took time.Duration, h *hist.Histogram) {
	r.Connect.Seconds = took.Seconds()
	if took > 0 {
		r.Connect.PerSecond = float64(r.Connect.Connected) / took.Seconds()
	}
	r.Connect.HandshakeP50Ms = nsToMs(h.Quantile(0.5))
	r.Connect.HandshakeP99Ms = nsToMs(h.Quantile(0.99))
	r.Connect.HandshakeMaxMs = nsToMs(h.Max())
}

func (r *report) setMemory(cfg config, before, after []int64, totalBefore, totalAfter int64) {
	r.Memory = &memoryReport{
		PIDs: cfg.PIDs, BeforeBytes: before, AfterBytes: after,
		TotalBeforeBytes: totalBefore, TotalAfterBytes: totalAfter,
		Connections: r.Connect.Connected, SettleSeconds: cfg.Settle.Seconds(),
	}
	if r.Connect.Connected > 0 {
		r.Memory.PerConnectionBytes = float64(totalAfter-totalBefore) / float64(r.Connect.Connected)
	}
}

func newPhaseReport(n int, rate float64, cfg config, m *phaseMsg, expected int64) *phaseReport {
	secs := cfg.Duration.Seconds()
	pr := &phaseReport{
		Phase: n, TargetRate: rate, Seconds: secs,
		Sent: m.Sent, SendErrors: m.SendErrors, Acked: m.Acked, AckErrors: m.AckErrors,
		Expected: expected, Received: m.Received, Late: m.Late, Foreign: m.Foreign,
		Disconnects:   m.Disconnects,
		SentPerSecond: float64(m.Sent) / secs, DeliveriesPerSecond: float64(m.Received) / secs,
		Latency: latency(m.Latency), SameReplica: latency(m.Same), CrossReplica: latency(m.Cross),
		MaxPublisherLagMs: nsToMs(m.MaxLagNs),
	}
	if d := expected - m.Received; d > 0 {
		pr.Lost = d
	} else {
		pr.Extra = -d
	}
	return pr
}

// judge decides whether the phase was sustained: everything delivered,
// nothing refused, nobody dropped and p99 within bound.
func (p *phaseReport) judge(maxP99 time.Duration) {
	var why []string
	if p.Sent == 0 {
		why = append(why, "nothing sent")
	}
	if p.Lost > 0 {
		why = append(why, fmt.Sprintf("%d of %d deliveries lost", p.Lost, p.Expected))
	}
	if p.SendErrors > 0 || p.AckErrors > 0 {
		why = append(why, fmt.Sprintf("%d send errors, %d error acks", p.SendErrors, p.AckErrors))
	}
	if p.Acked+p.AckErrors < p.Sent {
		why = append(why, fmt.Sprintf("%d publishes never acked", p.Sent-p.Acked-p.AckErrors))
	}
	if p.Disconnects > 0 {
		why = append(why, fmt.Sprintf("%d clients disconnected", p.Disconnects))
	}
	if p.Latency.P99Ms > ms(maxP99) {
		why = append(why, fmt.Sprintf("p99 %.1f ms > %.0f ms", p.Latency.P99Ms, ms(maxP99)))
	}
	p.Pass = len(why) == 0
	p.FailReason = strings.Join(why, "; ")
}

func fmtBytes(b float64) string {
	switch {
	case b >= 1<<30 || b <= -(1<<30):
		return fmt.Sprintf("%.2f GiB", b/(1<<30))
	case b >= 1<<20 || b <= -(1<<20):
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10 || b <= -(1<<10):
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

func fmtLatency(l latencyReport) string {
	if l.Count == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  (n=%d)", l.P50Ms, l.P90Ms, l.P99Ms, l.MaxMs, l.Count)
}

// writeHuman prints the report for people.
func (r *report) writeHuman(w io.Writer) {
	fmt.Fprintf(w, "== load %s %s  (%s, %d CPUs, %s RAM, load average %.2f)\n", r.Scenario, r.Label,
		r.Date.Format(time.RFC3339), r.Host.CPUs, fmtBytes(float64(r.Host.MemTotalBytes)), r.Host.LoadAvg1Start)
	fmt.Fprintf(w, "targets: %s\n", strings.Join(r.Config.Targets, ", "))
	c := r.Connect
	fmt.Fprintf(w, "connect: %d/%d clients in %.2f s = %.0f conn/s (handshake+join p50 %.1f ms, p99 %.1f ms, max %.1f ms), %d failed\n",
		c.Connected, c.Clients, c.Seconds, c.PerSecond, c.HandshakeP50Ms, c.HandshakeP99Ms, c.HandshakeMaxMs, c.Failed)
	for _, e := range c.Errors {
		fmt.Fprintf(w, "  connect error: %s\n", e)
	}
	if m := r.Memory; m != nil {
		fmt.Fprintf(w, "memory: server RSS %s -> %s over %d connections = %s per idle connection (after %.1f s settle; pids %v)\n",
			fmtBytes(float64(m.TotalBeforeBytes)), fmtBytes(float64(m.TotalAfterBytes)), m.Connections,
			fmtBytes(m.PerConnectionBytes), m.SettleSeconds, m.PIDs)
	}
	for _, p := range r.Phases {
		verdict := "PASS"
		if !p.Pass {
			verdict = "FAIL: " + p.FailReason
		}
		retry := ""
		if p.Retry > 0 {
			retry = fmt.Sprintf(" (retry %d)", p.Retry)
		}
		fmt.Fprintf(w, "phase %d%s: target %.0f msgs/s for %.0f s: sent %d (%.0f/s), acked %d; deliveries %d/%d expected (%.0f/s), lost %d, late %d  [%s]\n",
			p.Phase, retry, p.TargetRate, p.Seconds, p.Sent, p.SentPerSecond, p.Acked, p.Received, p.Expected, p.DeliveriesPerSecond, p.Lost, p.Late, verdict)
		fmt.Fprintf(w, "  latency all:   %s\n", fmtLatency(p.Latency))
		if p.CrossReplica.Count > 0 {
			fmt.Fprintf(w, "  same replica:  %s\n", fmtLatency(p.SameReplica))
			fmt.Fprintf(w, "  cross replica: %s\n", fmtLatency(p.CrossReplica))
		}
		if len(r.Config.PIDs) > 0 {
			fmt.Fprintf(w, "  server CPU %.2f s over %.1f s = %.2f µs per delivered message; load generator CPU %.2f s; max publisher lag %.1f ms; load average %.2f\n",
				p.ServerCPUSeconds, p.WindowSeconds, p.CPUPerDeliveryMicros, p.LoadgenCPUSeconds, p.MaxPublisherLagMs, p.LoadAvg1)
		}
		for _, pair := range p.Pairs {
			if pair.Received != pair.Expected {
				fmt.Fprintf(w, "  target %d -> target %d: received %d of %d\n", pair.From, pair.To, pair.Received, pair.Expected)
			}
		}
		for _, e := range p.Errors {
			fmt.Fprintf(w, "  error: %s\n", e)
		}
	}
	if rp := r.Ramp; rp != nil {
		fmt.Fprintf(w, "ramp: highest sustained %.0f deliveries/s (at %.0f msgs/s, phase %d); stopped: %s\n",
			rp.HighestSustainedDeliveriesPerSecond, rp.RateMsgsPerSecond, rp.HighestPassingPhase, rp.StopReason)
	}
}
