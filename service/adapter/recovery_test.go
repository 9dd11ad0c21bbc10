package adapter

import (
	"context"
	"testing"
	"time"

	"github.com/hubkit/hubkit/service/socketio/parser"
)

func TestRecoveryLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := &fakeNsp{sockets: map[string]*fakeSocket{}}
	m, err := NewMemory(MemoryConfig{Namespace: n, Recovery: RecoveryConfig{Window: time.Hour, MaxPackets: 3}})
	if err != nil {
		t.Fatal(err)
	}
	emit := func(opts BroadcastOptions, args ...any) string {
		p := &parser.Packet{Type: parser.Event, Args: args}
		if err := m.Broadcast(ctx, p, opts); err != nil {
			t.Fatal(err)
		}
		return p.Args[len(p.Args)-1].(string)
	}
	o1 := emit(BroadcastOptions{}, "e1")
	sess := &Session{SID: "sid", PID: "pid", Rooms: []string{"sid", "r"}}
	if err := m.PersistSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	emit(BroadcastOptions{Rooms: []string{"r"}}, "to-r")
	emit(BroadcastOptions{Rooms: []string{"other"}}, "to-other")
	emit(BroadcastOptions{Except: []string{"r"}}, "except-r")
	// the log holds 3 packets: e1 (at o1) was dropped, but everything
	// after o1 is still there
	got, err := m.RestoreSession(ctx, "pid", o1)
	if err != nil || got == nil {
		t.Fatalf("restore: %v %v", got, err)
	}
	if len(got.Missed) != 1 || got.Missed[0].Args[0] != "to-r" {
		t.Fatalf("missed %v", got.Missed)
	}
	if again, _ := m.RestoreSession(ctx, "pid", o1); again != nil {
		t.Fatal("restored twice")
	}

	// an offset older than the log cannot be recovered
	if err := m.PersistSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	emit(BroadcastOptions{}, "e5")
	if got, _ := m.RestoreSession(ctx, "pid", o1); got != nil {
		t.Fatalf("recovered from a trimmed offset: %+v", got)
	}
	for _, bad := range []string{"", "garbage", "x.1"} {
		if got, _ := m.RestoreSession(ctx, "nope", bad); got != nil {
			t.Fatal("unknown pid recovered")
		}
	}
}

func TestRecoveryDisabled(t *testing.T) {
	t.Parallel()
	m, _ := setup(t)
	p := &parser.Packet{Type: parser.Event, Args: []any{"e"}}
	if err := m.Broadcast(context.Background(), p, BroadcastOptions{}); err != nil || len(p.Args) != 1 {
		t.Fatalf("offset added without recovery: %v", p.Args)
	}
	if s, err := m.RestoreSession(context.Background(), "a", "b"); s != nil || err != nil || m.RecoveryEnabled() {
		t.Fatal("recovery should be off")
	}
}
