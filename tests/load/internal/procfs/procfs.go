package procfs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// userHZ is the unit of utime/stime in /proc/<pid>/stat. The kernel exports it
// to user space as USER_HZ, fixed at 100 on every Linux ABI Go supports.
const userHZ = 100

// ErrFormat is returned when a /proc file does not have the expected shape.
var ErrFormat = errors.New("procfs: unexpected format")

// Root is where proc is mounted; tests point it at a fixture directory.
type Root string

// Default is the host's /proc.
const Default Root = "/proc"

// RSS returns the resident set size of pid in bytes (VmRSS).
func (r Root) RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("%s/%d/status", r, pid))
	if err != nil {
		return 0, err
	}
	return ParseStatusRSS(b)
}

// CPU returns the user+system CPU time pid has used so far.
func (r Root) CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("%s/%d/stat", r, pid))
	if err != nil {
		return 0, err
	}
	return ParseStatCPU(b)
}

// ParseStatusRSS extracts VmRSS (reported in kB) from a status file, in bytes.
func ParseStatusRSS(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("%w: VmRSS line %q", ErrFormat, line)
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: VmRSS %q", ErrFormat, f[0])
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("%w: no VmRSS line", ErrFormat)
}

// ParseStatCPU extracts utime+stime (fields 14 and 15) from a stat file. The
// command name (field 2) may contain spaces and parentheses, so fields are
// counted from the last ')'.
func ParseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: no ')' in stat", ErrFormat)
	}
	f := bytes.Fields(stat[i+1:])
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: stat has %d fields after comm", ErrFormat, len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		v, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: cpu ticks %q", ErrFormat, s)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
