package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"

	"github.com/hubkit/hubkit/tests/load/internal/sio"
)

// stamp is what every published message carries so a subscriber can measure
// it: the publish phase, the publisher's sequence number, the index of the
// target (replica) the publisher is connected to, and the send time.
type stamp struct {
	Phase   int   `json:"ph"`
	Seq     int64 `json:"s"`
	Replica int   `json:"r"`
	SentNs  int64 `json:"t"`
}

// deliveredEvent is the event name publishers ask the server to emit.
const deliveredEvent = "msg"

// roomName is the name of room i.
func roomName(i int) string { return "room-" + strconv.Itoa(i) }

// appendPublish appends the JSON arguments of
// publish(room, "msg", {ph,s,r,t,pad}) to dst.
func appendPublish(dst []byte, room int, s stamp, pad string) []byte {
	dst = append(dst, `["publish","room-`...)
	dst = strconv.AppendInt(dst, int64(room), 10)
	dst = append(dst, `","`+deliveredEvent+`",{"ph":`...)
	dst = strconv.AppendInt(dst, int64(s.Phase), 10)
	dst = append(dst, `,"s":`...)
	dst = strconv.AppendInt(dst, s.Seq, 10)
	dst = append(dst, `,"r":`...)
	dst = strconv.AppendInt(dst, int64(s.Replica), 10)
	dst = append(dst, `,"t":`...)
	dst = strconv.AppendInt(dst, s.SentNs, 10)
	if pad != "" {
		dst = append(dst, `,"pad":"`...)
		dst = append(dst, pad...)
		dst = append(dst, '"')
	}
	return append(dst, "}]"...)
}

var errNotDelivery = errors.New("load: event is not a load-test delivery")

// parseDelivery reads the stamp out of an EVENT payload `["msg",{...}]`. The
// exact shape appendPublish writes takes a hand-written fast path (the load
// generator shares two cores with the servers it measures); anything else goes
// through encoding/json.
func parseDelivery(data []byte) (stamp, error) {
	if s, ok := fastStamp(data); ok {
		return s, nil
	}
	var s stamp
	name, args, err := sio.EventName(data)
	if err != nil {
		return s, err
	}
	// With connection state recovery on, the server appends the offset as a
	// last string argument.
	if name != deliveredEvent || len(args) == 0 || len(args) > 2 || (len(args) == 2 && !isJSONString(args[1])) {
		return s, errNotDelivery
	}
	if err := json.Unmarshal(args[0], &s); err != nil {
		return s, err
	}
	if s.SentNs <= 0 {
		return s, errNotDelivery
	}
	return s, nil
}

// ackOK reports whether an ack payload is `[{"ok":true}]`, and otherwise the
// error the server gave.
func ackOK(data []byte) (bool, string) {
	var v []struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(data, &v); err != nil || len(v) == 0 {
		return false, "unparseable ack " + strconv.Quote(string(data))
	}
	if v[0].OK && v[0].Error == "" {
		return true, ""
	}
	if v[0].Error == "" {
		return false, "ack without ok " + strconv.Quote(string(data))
	}
	return false, v[0].Error
}

// fastStamp parses `["msg",{"ph":N,"s":N,"r":N,"t":N` then an optional
// `,"pad":"x…"`, `}`, an optional recovery offset `,"…"` and `]`, and nothing
// else.
func fastStamp(b []byte) (stamp, bool) {
	var s stamp
	fields := [...]struct {
		key string
		dst *int64
	}{{`["` + deliveredEvent + `",{"ph":`, nil}, {`,"s":`, &s.Seq}, {`,"r":`, nil}, {`,"t":`, &s.SentNs}}
	var phase, replica int64
	fields[0].dst, fields[2].dst = &phase, &replica
	for _, f := range fields {
		rest, ok := bytes.CutPrefix(b, []byte(f.key))
		if !ok {
			return s, false
		}
		n, i := int64(0), 0
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			d := int64(rest[i] - '0')
			if n > (math.MaxInt64-d)/10 {
				return s, false // overflows int64
			}
			n = n*10 + d
		}
		if i == 0 {
			return s, false
		}
		*f.dst, b = n, rest[i:]
	}
	if pad, ok := bytes.CutPrefix(b, []byte(`,"pad":"`)); ok {
		i := bytes.IndexByte(pad, '"')
		if i < 0 || bytes.IndexByte(pad[:i], '\\') >= 0 {
			return s, false
		}
		b = pad[i+1:]
	}
	b, ok := bytes.CutPrefix(b, []byte("}"))
	if !ok {
		return s, false
	}
	// An optional recovery offset: ,"<offset without quotes or escapes>".
	if off, ok := bytes.CutPrefix(b, []byte(`,"`)); ok {
		i := bytes.IndexByte(off, '"')
		if i < 0 || bytes.IndexByte(off[:i], '\\') >= 0 {
			return s, false
		}
		b = off[i+1:]
	}
	if string(b) != "]" {
		return s, false
	}
	s.Phase, s.Replica = int(phase), int(replica)
	return s, s.SentNs > 0
}

func isJSONString(raw json.RawMessage) bool {
	var v string
	return json.Unmarshal(raw, &v) == nil
}
