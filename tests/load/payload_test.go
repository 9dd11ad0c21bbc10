package main

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/hubkit/hubkit/tests/load/internal/sio"
)

func TestPublishPayloadRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		room int
		s    stamp
		pad  string
	}{
		{"plain", 3, stamp{Phase: 1, Seq: 0, Replica: 0, SentNs: 1_700_000_000_123_456_789}, ""},
		{"padded", 29, stamp{Phase: 7, Seq: 123456, Replica: 2, SentNs: 42}, "xxxxxxxx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := appendPublish(nil, tc.room, tc.s, tc.pad)
			// What the server emits to subscribers is ["msg", <payload>]: the
			// publish args minus "publish" and the room.
			var (
				prefix = `["publish","` + roomName(tc.room) + `",`
			)
			if string(args[:len(prefix)]) != prefix {
				t.Fatalf("args %s do not start with %s", args, prefix)
			}
			delivered := append([]byte{'['}, args[len(prefix):]...)
			got, err := parseDelivery(delivered)
			if err != nil || got != tc.s {
				t.Fatalf("parseDelivery(%s) = %+v, %v; want %+v", delivered, got, err, tc.s)
			}
		})
	}
}

func TestParseDeliveryRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`["other",{"t":1}]`, `["msg"]`, `["msg",{"t":0}]`, `["msg",{"t":"x"}]`, `[1]`, `nope`,
		`["msg",{"t":1},2]`, `["msg",{"t":1},"a","b"]`} {
		if _, err := parseDelivery([]byte(in)); err == nil {
			t.Errorf("parseDelivery(%s) accepted", in)
		}
	}
	if s, err := parseDelivery([]byte(`["msg",{"t":9,"ph":2},"offset-1"]`)); err != nil || s.SentNs != 9 || s.Phase != 2 {
		t.Errorf("offset-suffixed delivery (JSON path): %+v, %v", s, err)
	}
	if _, err := parseDelivery([]byte(`["other",{"t":1}]`)); !errors.Is(err, errNotDelivery) {
		t.Errorf("foreign event: %v", err)
	}
}

func TestAckOK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		ok   bool
		want string
	}{
		{`[{"ok":true}]`, true, ""},
		{`[{"error":"forbidden room"}]`, false, "forbidden room"},
		{`[{}]`, false, `ack without ok "[{}]"`},
		{`[]`, false, `unparseable ack "[]"`},
	}
	for _, tc := range tests {
		ok, msg := ackOK([]byte(tc.in))
		if ok != tc.ok || msg != tc.want {
			t.Errorf("ackOK(%s) = %v %q; want %v %q", tc.in, ok, msg, tc.ok, tc.want)
		}
	}
}

func TestFastStampAgreesWithJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		fast bool
	}{
		{`["msg",{"ph":1,"s":2,"r":0,"t":1700000000000000000}]`, true},
		{`["msg",{"ph":12,"s":0,"r":2,"t":5,"pad":"xxxx"}]`, true},
		{`["msg",{"ph":1,"s":2,"r":0,"t":5,"extra":1}]`, false},
		{`["msg",{"s":2,"ph":1,"r":0,"t":5}]`, false}, // other key order: JSON path
		{`["msg",{"ph":1,"s":2,"r":0,"t":5} ]`, false},
		{`["msg",{"ph":1,"s":2,"r":0,"t":5,"pad":"a\"b"}]`, false},
		{`["msg",{"ph":1,"s":99999999999999999999,"r":0,"t":5}]`, false},
		{`["msg",{"ph":1,"s":2,"r":0,"t":0}]`, false},
		{`["msg",{"ph":1,"s":2,"r":0,"t":5},"dCSKu48F.b"]`, true}, // recovery offset
		{`["msg",{"ph":1,"s":2,"r":0,"t":5,"pad":"xx"},"1700000000000-0"]`, true},
		{`["msg",{"ph":1,"s":2,"r":0,"t":5},"a","b"]`, false},
		{`["msg",{"ph":1,"s":2,"r":0,"t":5},7]`, false},
		{`["msg",{"ph":1,"s":2,"r":0,"t":5},"a\"b"]`, false},
	}
	for _, tc := range tests {
		got, ok := fastStamp([]byte(tc.in))
		if ok != tc.fast {
			t.Errorf("fastStamp(%s) ok=%v, want %v", tc.in, ok, tc.fast)
			continue
		}
		if !ok {
			continue
		}
		var want stamp
		name, args, err := sio.EventName([]byte(tc.in))
		if err != nil || name != "msg" || json.Unmarshal(args[0], &want) != nil || got != want {
			t.Errorf("fastStamp(%s) = %+v, JSON says %+v (%v)", tc.in, got, want, err)
		}
	}
}

func BenchmarkParseDelivery(b *testing.B) {
	data := []byte(`["msg",{"ph":3,"s":123456,"r":1,"t":1700000000000000000}]`)
	for b.Loop() {
		if _, err := parseDelivery(data); err != nil {
			b.Fatal(err)
		}
	}
}
