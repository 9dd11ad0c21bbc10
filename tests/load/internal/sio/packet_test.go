package sio

import (
	"errors"
	"testing"
)

func TestParsePacket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Packet
		err  bool
	}{
		{in: `0`, want: Packet{Type: Connect, NSP: "/", ID: -1}},
		{in: `0{"sid":"abc"}`, want: Packet{Type: Connect, NSP: "/", ID: -1, Data: []byte(`{"sid":"abc"}`)}},
		{in: `0/admin,{"sid":"x"}`, want: Packet{Type: Connect, NSP: "/admin", ID: -1, Data: []byte(`{"sid":"x"}`)}},
		{in: `0/admin`, want: Packet{Type: Connect, NSP: "/admin", ID: -1}},
		{in: `2["msg",{"t":1}]`, want: Packet{Type: Event, NSP: "/", ID: -1, Data: []byte(`["msg",{"t":1}]`)}},
		{in: `212["publish","r"]`, want: Packet{Type: Event, NSP: "/", ID: 12, Data: []byte(`["publish","r"]`)}},
		{in: `2/chat,7["a"]`, want: Packet{Type: Event, NSP: "/chat", ID: 7, Data: []byte(`["a"]`)}},
		{in: `30[{"ok":true}]`, want: Packet{Type: Ack, NSP: "/", ID: 0, Data: []byte(`[{"ok":true}]`)}},
		{in: `4{"message":"nope"}`, want: Packet{Type: ConnectError, NSP: "/", ID: -1, Data: []byte(`{"message":"nope"}`)}},
		{in: `51-["up",{"_placeholder":true,"num":0}]`, want: Packet{Type: BinaryEvent, Attachments: 1, NSP: "/", ID: -1, Data: []byte(`["up",{"_placeholder":true,"num":0}]`)}},
		{in: `1`, want: Packet{Type: Disconnect, NSP: "/", ID: -1}},
		{in: ``, err: true},
		{in: `9`, err: true},
		{in: `2`, err: true},               // event without payload
		{in: `2{"a":1}`, err: true},        // event payload not an array
		{in: `2["unterminated`, err: true}, // not JSON
		{in: `5["x"]`, err: true},          // binary without count
		{in: `5x-["x"]`, err: true},
		{in: `21234567890123456["x"]`, err: true}, // absurd ack id
		{in: `3["x"`, err: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePacket([]byte(tc.in))
			if tc.err {
				if !errors.Is(err, ErrPacket) {
					t.Fatalf("err = %v, want ErrPacket", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != tc.want.Type || got.Attachments != tc.want.Attachments || got.NSP != tc.want.NSP ||
				got.ID != tc.want.ID || string(got.Data) != string(tc.want.Data) {
				t.Fatalf("got %+v (data %s), want %+v (data %s)", got, got.Data, tc.want, tc.want.Data)
			}
		})
	}
}

func TestEventNameAndAppendEvent(t *testing.T) {
	t.Parallel()
	frame := AppendEvent(nil, 42, []byte(`["publish","room-1","msg",{"t":5}]`))
	if string(frame) != `4242["publish","room-1","msg",{"t":5}]` {
		t.Fatalf("frame %s", frame)
	}
	p, err := ParsePacket(frame[1:])
	if err != nil || p.ID != 42 {
		t.Fatalf("reparse: %+v %v", p, err)
	}
	name, args, err := EventName(p.Data)
	if err != nil || name != "publish" || len(args) != 3 || string(args[2]) != `{"t":5}` {
		t.Fatalf("EventName = %q %s %v", name, args, err)
	}
	if string(AppendEvent(nil, -1, []byte(`["x"]`))) != `42["x"]` {
		t.Fatal("no-ack frame")
	}
	for _, bad := range []string{`[]`, `[1]`, `{}`} {
		if _, _, err := EventName([]byte(bad)); !errors.Is(err, ErrPacket) {
			t.Errorf("EventName(%s) err = %v", bad, err)
		}
	}
}

func TestWebsocketURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:3000", "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket"},
		{"ws://h:1/custom", "ws://h:1/custom/?EIO=4&transport=websocket"},
		{"https://h/socket.io/", "wss://h/socket.io/?EIO=4&transport=websocket"},
	}
	for _, tc := range tests {
		got, err := WebsocketURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("WebsocketURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := WebsocketURL("ftp://x"); err == nil {
		t.Error("ftp accepted")
	}
}
