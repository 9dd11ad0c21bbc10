package wire

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Streams adapter (@socket.io/redis-streams-adapter 0.3.x) formats, for
// connection state recovery across replicas: ClusterAdapter messages are
// appended to a Redis stream (XADD socket.io MAXLEN ~ N * uid U nsp N type T
// data D), the stream entry id being the client's offset; sessions are
// stored as SET sio:session:<pid> base64(msgpack{sid,pid,rooms,data}).
// That adapter encodes with @msgpack/msgpack, whose output matches
// EncodeMsgpack for every value a Socket.IO packet carries.

// DefaultStreamName and DefaultSessionKeyPrefix are the adapter's defaults.
const (
	DefaultStreamName       = "socket.io"
	DefaultSessionKeyPrefix = "sio:session:"
)

// StreamEntry is one stream entry: its fields, decoded.
type StreamEntry struct {
	UID  string
	NSP  string
	Type MessageType
	Data Value // Undefined when the entry has no data field
}

// EntryFromMessage builds the entry the streams adapter writes for m.
func EntryFromMessage(m ClusterMessage) StreamEntry {
	return StreamEntry{UID: m.UID, NSP: m.NSP, Type: m.Type, Data: m.data()}
}

// Message decodes the entry's data as a ClusterMessage.
func (e StreamEntry) Message() (ClusterMessage, error) {
	return clusterFromParts(e.Type, e.UID, e.NSP, e.Data)
}

// Fields returns the XADD field/value pairs in the adapter's order: data is
// JSON, or base64 msgpack when a binary-capable message holds binary.
func (e StreamEntry) Fields() []string {
	f := []string{"uid", e.UID, "nsp", e.NSP, "type", strconv.Itoa(int(e.Type))}
	if e.Data.Truthy() {
		var data string
		switch e.Type {
		case MsgBroadcast, MsgFetchSocketsResponse, MsgServerSideEmit, MsgServerSideEmitResponse, MsgBroadcastAck:
			if e.Data.HasBinary() {
				data = base64.StdEncoding.EncodeToString(EncodeMsgpack(e.Data))
			}
		}
		if data == "" {
			data = string(AppendJSON(nil, e.Data))
		}
		f = append(f, "data", data)
	}
	return f
}

// DecodeStreamEntry decodes the fields of a stream entry (as XRANGE returns
// them).
func DecodeStreamEntry(fields map[string]string) (StreamEntry, error) {
	t, err := strconv.Atoi(fields["type"])
	if err != nil {
		return StreamEntry{}, malformed("stream entry type %q", fields["type"])
	}
	e := StreamEntry{UID: fields["uid"], NSP: fields["nsp"], Type: MessageType(t)}
	raw, ok := fields["data"]
	if !ok || raw == "" {
		return e, nil
	}
	if strings.HasPrefix(raw, "{") {
		e.Data, err = ParseJSON([]byte(raw))
	} else {
		var b []byte
		if b, err = base64.StdEncoding.DecodeString(raw); err == nil {
			e.Data, err = DecodeMsgpack(b)
		}
	}
	if err != nil {
		return StreamEntry{}, malformed("stream entry data: %v", err)
	}
	return e, nil
}

// NextOffset is the smallest stream id after offset ("<ms>-<seq+1>"), as
// the adapter computes it for XRANGE on Redis before 6.2.
func NextOffset(offset string) (string, bool) {
	ts, seq, ok := strings.Cut(offset, "-")
	if !ok {
		return "", false
	}
	if _, err := strconv.ParseUint(ts, 10, 64); err != nil {
		return "", false
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return "", false
	}
	return ts + "-" + strconv.FormatUint(n+1, 10), true
}

// Session is a socket's state kept for recovery.
type Session struct {
	SID   string
	PID   string
	Rooms []string
	Data  Value
}

// Encode returns base64(msgpack{sid,pid,rooms,data}), the SET value.
func (s Session) Encode() string {
	v := MapValue(
		M("sid", StringValue(s.SID)),
		M("pid", StringValue(s.PID)),
		M("rooms", StringsValue(nonNil(s.Rooms))),
		M("data", s.Data),
	)
	return base64.StdEncoding.EncodeToString(EncodeMsgpack(v))
}

// DecodeSession decodes a stored session.
func DecodeSession(raw string) (Session, error) {
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return Session{}, malformed("session: %v", err)
	}
	v, err := DecodeMsgpack(b)
	if err != nil {
		return Session{}, err
	}
	var s Session
	var ok bool
	if s.SID, ok = v.Get("sid").Str(); !ok {
		return Session{}, malformed("session without sid")
	}
	if s.PID, ok = v.Get("pid").Str(); !ok {
		return Session{}, malformed("session without pid")
	}
	if s.Rooms, ok = v.Get("rooms").Strings(); !ok {
		return Session{}, malformed("session rooms is not an array of strings")
	}
	s.Data = v.Get("data")
	return s, nil
}

// IncludePacket reports whether a packet broadcast with opts reaches a
// session in rooms (the adapter's shouldIncludePacket).
func IncludePacket(rooms []string, opts Opts) bool {
	included := len(opts.Rooms) == 0
	for _, r := range rooms {
		for _, x := range opts.Except {
			if r == x {
				return false
			}
		}
		if !included {
			for _, x := range opts.Rooms {
				if r == x {
					included = true
					break
				}
			}
		}
	}
	return included
}
