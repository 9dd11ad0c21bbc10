package socketio

import (
	"encoding/json"
	"strings"
	"testing"
)

// lastArg returns the last JSON argument of an EVENT frame (the offset).
func lastArg(t *testing.T, frame string) string {
	t.Helper()
	i := strings.IndexByte(frame, '[')
	var args []json.RawMessage
	if i < 0 || json.Unmarshal([]byte(frame[i:]), &args) != nil || len(args) == 0 {
		t.Fatalf("not an event: %q", frame)
	}
	var s string
	if err := json.Unmarshal(args[len(args)-1], &s); err != nil {
		t.Fatalf("last arg of %q is not a string offset", frame)
	}
	return s
}

func TestConnectionStateRecovery(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, Config{Recovery: &RecoveryConfig{}})
	type conn struct {
		s         *Socket
		recovered bool
		rooms     []string
		auth      string
	}
	conns := make(chan conn, 4)
	mwRuns := 0
	srv.Use(func(*Socket) error { mwRuns++; return nil })
	srv.OnConnection(func(s *Socket) {
		if !s.Recovered() {
			s.Join("room")
			s.SetData("kept")
		}
		conns <- conn{s, s.Recovered(), s.Rooms(), string(s.Handshake().Auth)}
	})

	c1 := dial(t, srv)
	c1.send(`0{"token":"abc"}`)
	ack := string(c1.recv().Data)
	var hs struct{ SID, PID string }
	if err := json.Unmarshal([]byte(ack[1:]), &hs); err != nil || len(hs.SID) != 20 || len(hs.PID) != 20 {
		t.Fatalf("ack %q", ack)
	}
	first := <-conns
	if first.recovered {
		t.Fatal("first connection recovered")
	}
	if err := first.s.Emit("a", 1); err != nil {
		t.Fatal(err)
	}
	if err := srv.To("room").Emit("b", "x"); err != nil {
		t.Fatal(err)
	}
	if err := first.s.Emit("withack", func(Args) {}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Volatile().Emit("v"); err != nil {
		t.Fatal(err)
	}
	fa := string(c1.recv().Data)
	fb := string(c1.recv().Data)
	if !strings.HasPrefix(fa, `2["a",1,"`) || !strings.HasPrefix(fb, `2["b","x","`) {
		t.Fatalf("frames %q %q", fa, fb)
	}
	c1.expect(`20["withack"]`) // acks carry no offset
	c1.expect(`2["v"]`)        // neither do volatile events
	offset := lastArg(t, fb)

	c1.f.CloseWithReason(ReasonTransportClose)
	waitFor(t, func() bool { return !first.s.Connected() })
	if err := srv.To("room").Emit("missed1", 2); err != nil {
		t.Fatal(err)
	}
	if err := srv.Except("room").Emit("not-for-you"); err != nil {
		t.Fatal(err)
	}

	c2 := dial(t, srv)
	auth := `{"pid":"` + hs.PID + `","offset":"` + offset + `","token":"abc"}`
	c2.send("0" + auth)
	missed := string(c2.recv().Data)
	if !strings.HasPrefix(missed, `2["missed1",2,"`) {
		t.Fatalf("missed %q", missed)
	}
	c2.expect(`0{"sid":"` + hs.SID + `","pid":"` + hs.PID + `"}`)
	second := <-conns
	if !second.recovered || second.s.ID() != hs.SID || second.s.Data() != "kept" || !contains(second.rooms, "room") || second.auth != auth {
		t.Fatalf("recovered socket %+v", second)
	}
	if mwRuns != 1 {
		t.Fatalf("middleware ran %d times, want 1 (skipped on recovery)", mwRuns)
	}

	// a session is restored once, and not after a client-side disconnect
	c2.send("1")
	waitFor(t, func() bool { return !second.s.Connected() })
	c3 := dial(t, srv)
	c3.send(`0{"pid":"` + hs.PID + `","offset":"` + offset + `"}`)
	ack3 := string(c3.recv().Data)
	if strings.Contains(ack3, hs.SID) || strings.Contains(ack3, hs.PID) {
		t.Fatalf("unexpected recovery: %q", ack3)
	}
	if third := <-conns; third.recovered {
		t.Fatal("recovered twice")
	}
}
