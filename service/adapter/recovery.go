package adapter

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hubkit/hubkit/service/socketio/parser"
)

// Defaults of RecoveryConfig.
const (
	DefaultRecoveryMaxPackets = 10_000
)

// RecoveryConfig enables connection state recovery in a Memory adapter
// (Node's SessionAwareAdapter): every non-volatile broadcast EVENT without
// ack id gets an offset appended as its last argument and is kept for
// Window, and disconnected sessions are kept for Window so that a client
// reconnecting with its pid and last offset gets its id, rooms, data and
// the events it missed.
type RecoveryConfig struct {
	// Window is how long sessions and packets are kept. Zero disables
	// recovery.
	Window time.Duration
	// MaxPackets bounds the packet log (oldest dropped first). Zero means
	// DefaultRecoveryMaxPackets.
	MaxPackets int
}

type logEntry struct {
	seq  uint64
	at   time.Time
	opts BroadcastOptions
	args []any
}

type storedSession struct {
	s              Session
	disconnectedAt time.Time
}

// recoveryLog holds the packet log and the disconnected sessions. Its lock
// is a leaf: nothing else is locked while it is held.
type recoveryLog struct {
	window time.Duration
	max    int
	prefix string // distinguishes this process's offsets

	mu        sync.Mutex
	seq       uint64
	entries   []logEntry // ascending seq, contiguous
	sessions  map[string]storedSession
	lastSweep time.Time
}

func newRecoveryLog(cfg RecoveryConfig) *recoveryLog {
	if cfg.Window <= 0 {
		return nil
	}
	if cfg.MaxPackets <= 0 {
		cfg.MaxPackets = DefaultRecoveryMaxPackets
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &recoveryLog{
		window:   cfg.Window,
		max:      cfg.MaxPackets,
		prefix:   base64.RawURLEncoding.EncodeToString(b[:]),
		sessions: make(map[string]storedSession),
	}
}

func (l *recoveryLog) offset(seq uint64) string {
	return l.prefix + "." + strconv.FormatUint(seq, 36)
}

func (l *recoveryLog) parseOffset(off string) (uint64, bool) {
	rest, ok := strings.CutPrefix(off, l.prefix+".")
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseUint(rest, 36, 64)
	return seq, err == nil
}

// record appends an offset to p's args (on a copy) and logs the packet.
func (l *recoveryLog) record(p *parser.Packet, opts BroadcastOptions) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	args := make([]any, len(p.Args), len(p.Args)+1)
	copy(args, p.Args)
	args = append(args, l.offset(l.seq))
	p.Args = args
	l.entries = append(l.entries, logEntry{seq: l.seq, at: now, opts: opts, args: args})
	l.trimLocked(now)
}

func (l *recoveryLog) trimLocked(now time.Time) {
	drop := 0
	threshold := now.Add(-l.window)
	for drop < len(l.entries) && (len(l.entries)-drop > l.max || l.entries[drop].at.Before(threshold)) {
		drop++
	}
	if drop > 0 {
		clear(l.entries[:drop])
		l.entries = l.entries[drop:]
	}
	if now.Sub(l.lastSweep) >= time.Second {
		l.lastSweep = now
		for pid, s := range l.sessions {
			if s.disconnectedAt.Before(threshold) {
				delete(l.sessions, pid)
			}
		}
	}
}

func (l *recoveryLog) persist(s *Session) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	cp := *s
	cp.Rooms = append([]string(nil), s.Rooms...)
	cp.Missed = nil
	l.sessions[s.PID] = storedSession{s: cp, disconnectedAt: now}
	l.trimLocked(now)
}

func (l *recoveryLog) restore(pid, offset string) *Session {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.trimLocked(now)
	st, ok := l.sessions[pid]
	if !ok {
		return nil
	}
	delete(l.sessions, pid)
	if st.disconnectedAt.Before(now.Add(-l.window)) {
		return nil
	}
	seq, ok := l.parseOffset(offset)
	if !ok || len(l.entries) == 0 && seq != l.seq {
		return nil
	}
	start := 0
	if len(l.entries) > 0 {
		first := l.entries[0].seq
		if seq+1 < first || seq > l.seq {
			return nil // the offset is older than the log, or unknown
		}
		start = int(seq + 1 - first)
	}
	s := st.s
	for _, e := range l.entries[start:] {
		if includes(s.Rooms, e.opts) {
			s.Missed = append(s.Missed, &parser.Packet{Type: parser.Event, Args: e.args})
		}
	}
	return &s
}

// includes is Node's shouldIncludePacket.
func includes(rooms []string, opts BroadcastOptions) bool {
	in := len(opts.Rooms) == 0
	for _, r := range rooms {
		for _, t := range opts.Rooms {
			if r == t {
				in = true
			}
		}
		for _, x := range opts.Except {
			if r == x {
				return false
			}
		}
	}
	return in
}

var _ SessionStore = (*Memory)(nil)

// RecoveryEnabled reports whether the adapter was created with a
// RecoveryConfig window.
func (m *Memory) RecoveryEnabled() bool { return m.rec != nil }

// PersistSession keeps s for the recovery window (no-op when recovery is
// disabled).
func (m *Memory) PersistSession(_ context.Context, s *Session) error {
	if m.rec != nil {
		m.rec.persist(s)
	}
	return nil
}

// RestoreSession returns the session pid with the packets after offset, or
// nil when it cannot be recovered (unknown or expired pid, offset no longer
// in the log, recovery disabled). A session is restored at most once.
func (m *Memory) RestoreSession(_ context.Context, pid, offset string) (*Session, error) {
	if m.rec == nil {
		return nil, nil
	}
	return m.rec.restore(pid, offset), nil
}
