package main

import (
	"encoding/json"
	"errors"
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

// parseDelivery reads the stamp out of an EVENT payload `["msg",{...}]`.
func parseDelivery(data []byte) (stamp, error) {
	var s stamp
	name, args, err := sio.EventName(data)
	if err != nil {
		return s, err
	}
	if name != deliveredEvent || len(args) != 1 {
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
