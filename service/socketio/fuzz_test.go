package socketio

import (
	"bytes"
	"testing"

	"github.com/hubkit/hubkit/service/socketio/parser"
)

// FuzzClient feeds arbitrary frames (split on '\n'; a leading 0xff byte
// marks a binary frame) to a client connected to "/" and "/custom" whose
// handlers echo and ack: whatever arrives, the process must not panic, and
// a connection that received an invalid packet is closed.
func FuzzClient(f *testing.F) {
	for _, s := range []string{
		"0\n2[\"echo\",1]",
		"0/custom,\n2/custom,5[\"echo\",{\"a\":[1]}]",
		"0\n51-[\"echo\",{\"_placeholder\":true,\"num\":0}]\n\xff\x01\x02",
		"0\n30[1]\n1\n0",
		"0{\"token\":1}\n4abc",
		"2[\"echo\"]",
		"0/nope,\n0/custom\n1/custom,\n2/custom,[\"x\"]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		srv, err := newServer(Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		echo := func(s *Socket) {
			s.On("echo", func(args Args, ack AckFunc) {
				if ack != nil {
					_ = ack(args...)
				}
				_ = s.Emit("echo", args...)
				_ = s.Broadcast().Emit("echo", args...)
			})
		}
		srv.OnConnection(echo)
		srv.Of("/custom").OnConnection(echo)
		conn := &fakeConn{id: "fuzz", notify: make(chan struct{}, 1)}
		conn.c = srv.newClient(conn, Handshake{})
		for _, line := range bytes.Split(data, []byte("\n")) {
			fr := parser.Frame{Data: line}
			if len(line) > 0 && line[0] == 0xff {
				fr = parser.Frame{Data: line[1:], Binary: true}
			}
			conn.c.onFrame(fr)
		}
		conn.c.onClose(ReasonTransportClose)
	})
}
