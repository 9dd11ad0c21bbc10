package main

import (
	"errors"
	"testing"
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
	for _, in := range []string{`["other",{"t":1}]`, `["msg"]`, `["msg",{"t":0}]`, `["msg",{"t":"x"}]`, `[1]`, `nope`} {
		if _, err := parseDelivery([]byte(in)); err == nil {
			t.Errorf("parseDelivery(%s) accepted", in)
		}
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
