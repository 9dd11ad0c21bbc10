package procfs

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want time.Duration
		err  bool
	}{
		{"node", "4242 (node) S 1 4242 4242 0 -1 4194560 5000 0 0 0 150 25 0 0 20 0 11 0 100 1000000 5000", 1750 * time.Millisecond, false},
		{"comm with spaces and parens", "7 (my (odd) proc) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 1 1", 70 * time.Millisecond, false},
		{"truncated", "7 (x) R 1 2 3", 0, true},
		{"no comm", "7 x R", 0, true},
		{"not a number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 a 4 0 0 20 0 1 0 1 1 1", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseStatCPU([]byte(tc.in))
			if tc.err {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("err = %v, want ErrFormat", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParseStatusRSS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want int64
		err  bool
	}{
		{"ok", "Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t   51200 kB\nThreads:\t7\n", 51200 * 1024, false},
		{"missing", "Name:\tkthreadd\nThreads:\t1\n", 0, true},
		{"bad unit", "VmRSS:\t12 MB\n", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseStatusRSS([]byte(tc.in))
			if tc.err != (err != nil) || got != tc.want {
				t.Fatalf("got %d, %v; want %d (err=%v)", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestReadsOwnProcess(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	rss, err := Default.RSS(os.Getpid())
	if err != nil || rss <= 0 {
		t.Fatalf("RSS = %d, %v", rss, err)
	}
	if _, err := Default.CPU(os.Getpid()); err != nil {
		t.Fatalf("CPU: %v", err)
	}
}
