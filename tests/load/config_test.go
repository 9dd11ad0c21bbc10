package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, c config)
		err   string
	}{
		{name: "idle preset", args: []string{"-scenario", "idle"}, check: func(t *testing.T, c config) {
			if c.Subscribers != 10000 || c.Publishers != 0 || c.Procs != 2 {
				t.Errorf("idle preset: %+v", c)
			}
		}},
		{name: "explicit flag beats preset", args: []string{"-scenario", "fanout", "-rate", "10", "-targets", "http://a,http://b"}, check: func(t *testing.T, c config) {
			if c.Rate != 10 || c.Rooms != 30 || c.Duration != 20*time.Second || len(c.Targets) != 2 {
				t.Errorf("fanout override: %+v", c)
			}
		}},
		{name: "pids", args: []string{"-pids", "12, 34"}, check: func(t *testing.T, c config) {
			if len(c.PIDs) != 2 || c.PIDs[1] != 34 {
				t.Errorf("pids %v", c.PIDs)
			}
		}},
		{name: "procs for 12000 clients", args: []string{"-clients", "12000"}, check: func(t *testing.T, c config) {
			if c.Procs != 3 {
				t.Errorf("procs %d", c.Procs)
			}
		}},
		{name: "bad scenario", args: []string{"-scenario", "chaos"}, err: "-scenario"},
		{name: "bad pid", args: []string{"-pids", "x"}, err: "-pids"},
		{name: "publishers without rooms", args: []string{"-publishers", "3"}, err: "-rooms"},
		{name: "too many per proc", args: []string{"-clients", "40000", "-procs", "1"}, err: "open files"},
		{name: "source range leaves loopback", args: []string{"-source-base", "127.255.255.250", "-sources", "10"}, err: "127.0.0.0/8"},
		{name: "ramp factor", args: []string{"-ramp-factor", "0.5"}, err: "-ramp-factor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := parseConfig(tc.args, io.Discard)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestSplitRangeCoversEverything(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 7, 10000} {
		for parts := 1; parts <= 5; parts++ {
			next := 0
			for i := range parts {
				lo, hi := splitRange(n, parts, i)
				if lo != next || hi < lo {
					t.Fatalf("n=%d parts=%d i=%d: [%d,%d) after %d", n, parts, i, lo, hi, next)
				}
				next = hi
			}
			if next != n {
				t.Fatalf("n=%d parts=%d covers %d", n, parts, next)
			}
		}
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    phaseReport
		pass bool
		why  string
	}{
		{"clean", phaseReport{Sent: 10, Acked: 10, Expected: 100, Received: 100, Latency: latencyReport{P99Ms: 5}}, true, ""},
		{"loss", phaseReport{Sent: 10, Acked: 10, Expected: 100, Received: 99, Lost: 1, Latency: latencyReport{P99Ms: 5}}, false, "lost"},
		{"slow", phaseReport{Sent: 10, Acked: 10, Expected: 100, Received: 100, Latency: latencyReport{P99Ms: 1500}}, false, "p99"},
		{"unacked", phaseReport{Sent: 10, Acked: 8, Expected: 100, Received: 100}, false, "never acked"},
		{"idle", phaseReport{}, false, "nothing sent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.p
			p.judge(time.Second)
			if p.Pass != tc.pass || !strings.Contains(p.FailReason, tc.why) {
				t.Fatalf("pass=%v reason=%q; want %v with %q", p.Pass, p.FailReason, tc.pass, tc.why)
			}
		})
	}
}

func TestSourceIP(t *testing.T) {
	t.Parallel()
	ip, err := sourceIP("127.0.0.250", 10)
	if err != nil || ip.String() != "127.0.1.4" {
		t.Fatalf("sourceIP = %v, %v", ip, err)
	}
	if _, err := sourceIP("10.0.0.1", 0); err == nil {
		t.Fatal("non-loopback accepted")
	}
}
