package engineio

import (
	"bytes"
	"testing"
)

// Real frames, as engine.io-client 6.6 and socket.io-client 4.8 put them on
// the wire (see TestNodeClientInterop, which exchanges them with the real
// client), used as unit cases, fuzz seeds and benchmark inputs.
var (
	realPackets = []string{
		`0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
		"1", "2", "3", "2probe", "3probe", "5", "6",
		"4hello", "4", "4€uro ✓",
		"40", `40{"token":"abc"}`, `40/custom,{"sid":"x"}`,
		`42["message","hi",1,{"a":[true,null]}]`,
		`421["message-with-ack",1,"2",{"3":[4]}]`,
		`451-["binary",{"_placeholder":true,"num":0}]`,
		"bAQIDBA==", "bAQIDBA", "b", "bAA==",
	}
	realPayloads = []string{
		"4hello\x1e2\x1e6",
		"40\x1e42[\"message\",\"hi\"]",
		"451-[\"binary\",{\"_placeholder\":true,\"num\":0}]\x1ebAQIDBA==",
		"3\x1e4a\x1e4b\x1e1",
	}
)

func TestDecodePacket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		typ    byte
		data   string
		binary bool
		err    bool
	}{
		{in: "4hello", typ: '4', data: "hello"},
		{in: "4", typ: '4', data: ""},
		{in: "2probe", typ: '2', data: "probe"},
		{in: "6", typ: '6'},
		{in: "0{}", typ: '0', data: "{}"},
		{in: "bAQID", typ: '4', data: "\x01\x02\x03", binary: true},
		{in: "bAQIDBA==", typ: '4', data: "\x01\x02\x03\x04", binary: true},
		{in: "bAQIDBA", typ: '4', data: "\x01\x02\x03\x04", binary: true},
		{in: "b", typ: '4', data: "", binary: true},
		{in: "", err: true},
		{in: "7", err: true},
		{in: "/", err: true},
		{in: "x4", err: true},
		{in: "b!", err: true},
		{in: "bA", err: true},
	}
	for _, tt := range tests {
		p, err := decodePacket([]byte(tt.in))
		if (err != nil) != tt.err {
			t.Errorf("%q: err %v", tt.in, err)
			continue
		}
		if err == nil && (p.typ != tt.typ || string(p.data) != tt.data || p.binary != tt.binary) {
			t.Errorf("%q: got %c %q %v", tt.in, p.typ, p.data, p.binary)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	t.Parallel()
	var got []string
	err := decodePayload([]byte("4a\x1ebAQ==\x1e2\x1e4"), func(p packet) bool {
		got = append(got, string(appendPacket(nil, p)))
		return true
	})
	if err != nil || len(got) != 4 || got[0] != "4a" || got[1] != "bAQ==" || got[2] != "2" || got[3] != "4" {
		t.Fatalf("got %q %v", got, err)
	}
	// Stops when fn returns false.
	n := 0
	_ = decodePayload([]byte("4a\x1e1\x1e4b"), func(p packet) bool { n++; return p.typ != packetClose })
	if n != 2 {
		t.Errorf("fn called %d times", n)
	}
	// Packets before an undecodable one are passed on, then errParse.
	n = 0
	if err := decodePayload([]byte("4a\x1e\x1e4b"), func(packet) bool { n++; return true }); err != errParse || n != 1 {
		t.Errorf("err %v after %d packets", err, n)
	}
}

func TestEncodePayload(t *testing.T) {
	t.Parallel()
	got := appendPayload(nil, []packet{
		{typ: packetMessage, data: []byte("hi")},
		{typ: packetMessage, data: []byte{0xff, 0}, binary: true},
		{typ: packetPing},
		{typ: packetPong, data: []byte("probe")},
	})
	if want := "4hi\x1eb/wA=\x1e2\x1e3probe"; string(got) != want {
		t.Errorf("got %q want %q", got, want)
	}
	for _, p := range []packet{{typ: '4', data: []byte("abc")}, {typ: '4', data: []byte("abcd"), binary: true}} {
		if l := len(appendPacket(nil, p)); l != encodedLen(p) {
			t.Errorf("encodedLen %d, encoded %d", encodedLen(p), l)
		}
	}
}

func TestDecodeTextPayloadDoesNotAllocate(t *testing.T) {
	payload := []byte(realPayloads[1] + "\x1e" + realPayloads[0])
	allocs := testing.AllocsPerRun(100, func() {
		_ = decodePayload(payload, func(packet) bool { return true })
	})
	if allocs != 0 {
		t.Errorf("%v allocations per text payload decode", allocs)
	}
}

func samePacket(a, b packet) bool {
	return a.typ == b.typ && a.binary == b.binary && bytes.Equal(a.data, b.data)
}

// FuzzDecodePacket checks that the packet decoder never panics, that what it
// accepts re-encodes to something that decodes to the same packet, and that
// both halves of any split decode without panicking.
func FuzzDecodePacket(f *testing.F) {
	for _, s := range realPackets {
		f.Add([]byte(s), uint(len(s)/2))
		f.Add([]byte(s[:len(s)/2]), uint(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, split uint) {
		p, err := decodePacket(b)
		if err == nil {
			again, err := decodePacket(appendPacket(nil, p))
			if err != nil || !samePacket(p, again) {
				t.Fatalf("%q: re-encoded packet decodes to %+v, %v", b, again, err)
			}
		}
		if len(b) > 0 {
			k := int(split % uint(len(b)+1))
			_, _ = decodePacket(b[:k])
			_, _ = decodePacket(b[k:])
		}
	})
}

// FuzzDecodePayload does the same for polling payloads.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range append(append([]string(nil), realPayloads...), realPackets...) {
		f.Add([]byte(s), uint(len(s)/2))
		f.Add([]byte(s[:len(s)/2]), uint(1))
	}
	f.Fuzz(func(t *testing.T, b []byte, split uint) {
		var ps []packet
		err := decodePayload(b, func(p packet) bool { ps = append(ps, p); return true })
		if err == nil {
			var again []packet
			enc := appendPayload(nil, ps)
			if err := decodePayload(enc, func(p packet) bool { again = append(again, p); return true }); err != nil {
				t.Fatalf("%q: re-encoded payload %q: %v", b, enc, err)
			}
			if len(again) != len(ps) {
				t.Fatalf("%q: %d packets, re-encoded %d", b, len(ps), len(again))
			}
			for i := range ps {
				if !samePacket(ps[i], again[i]) {
					t.Fatalf("%q: packet %d differs after re-encoding", b, i)
				}
			}
		}
		if len(b) > 0 {
			k := int(split % uint(len(b)+1))
			_ = decodePayload(b[:k], func(packet) bool { return true })
			_ = decodePayload(b[k:], func(packet) bool { return true })
		}
	})
}
