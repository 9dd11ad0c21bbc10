package wire

import "time"

// PacketTypeEvent is the Socket.IO EVENT packet type carried in broadcasts.
const PacketTypeEvent = 2

// Packet is the Socket.IO packet carried by a broadcast.
type Packet struct {
	Type int   // 2 (EVENT) in practice
	Data Value // the event name followed by its arguments
	NSP  string
}

func (p Packet) value(withNSP bool) Value {
	ms := []Member{M("type", IntValue(int64(p.Type))), M("data", p.Data)}
	if withNSP {
		ms = append(ms, M("nsp", StringValue(p.NSP)))
	}
	return MapValue(ms...)
}

func packetFrom(v Value) (Packet, error) {
	t, err := typedObject(v, "packet")
	if err != nil {
		return Packet{}, err
	}
	data := v.Get("data")
	if data.Kind() != Array {
		return Packet{}, malformed("packet data is not an array")
	}
	nsp := "/"
	if n := v.Get("nsp"); !n.IsUndefined() {
		s, ok := n.Str()
		if !ok {
			return Packet{}, malformed("packet nsp is not a string")
		}
		nsp = s
	}
	return Packet{Type: int(t), Data: data, NSP: nsp}, nil
}

// Opts are the targeting options of a broadcast or a socket operation.
type Opts struct {
	Rooms  []string
	Except []string
	// Flags is the flags object as sent (volatile, compress, local, timeout,
	// ...). Undefined when absent. Build one with [MakeFlags].
	Flags Value
}

// Volatile reports flags.volatile.
func (o Opts) Volatile() bool { return o.Flags.Get("volatile").Truthy() }

// Local reports flags.local.
func (o Opts) Local() bool { return o.Flags.Get("local").Truthy() }

// Compress reports flags.compress and whether it was set.
func (o Opts) Compress() (compress, set bool) {
	c := o.Flags.Get("compress")
	if c.IsUndefined() {
		return false, false
	}
	return c.Truthy(), true
}

// Timeout reports flags.timeout (0 when absent).
func (o Opts) Timeout() time.Duration {
	f, ok := o.Flags.Get("timeout").Float()
	if !ok || f <= 0 {
		return 0
	}
	return time.Duration(f * float64(time.Millisecond))
}

// Flags are the broadcast flags a Go node sets.
type Flags struct {
	Volatile bool
	Local    bool
	Compress *bool
	Timeout  time.Duration // 0 = unset
}

// MakeFlags builds the flags object in the order socket.io's operators add them.
func MakeFlags(f Flags) Value {
	ms := []Member{}
	if f.Volatile {
		ms = append(ms, M("volatile", BoolValue(true)))
	}
	if f.Compress != nil {
		ms = append(ms, M("compress", BoolValue(*f.Compress)))
	}
	if f.Local {
		ms = append(ms, M("local", BoolValue(true)))
	}
	if f.Timeout > 0 {
		ms = append(ms, M("timeout", IntValue(f.Timeout.Milliseconds())))
	}
	return MapValue(ms...)
}

func (o Opts) value(withFlags bool) Value {
	ms := []Member{
		M("rooms", StringsValue(nonNil(o.Rooms))),
		M("except", StringsValue(nonNil(o.Except))),
	}
	if withFlags {
		ms = append(ms, M("flags", o.Flags))
	}
	return MapValue(ms...)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func optsFrom(v Value) (Opts, error) {
	if v.Kind() != Map {
		return Opts{}, malformed("opts is not an object")
	}
	rooms, ok := v.Get("rooms").Strings()
	if !ok {
		return Opts{}, malformed("opts.rooms is not an array of strings")
	}
	except, ok := v.Get("except").Strings()
	if !ok {
		return Opts{}, malformed("opts.except is not an array of strings")
	}
	flags := v.Get("flags")
	if k := flags.Kind(); k != Undefined && k != Map && k != Null {
		return Opts{}, malformed("opts.flags is not an object")
	}
	return Opts{Rooms: rooms, Except: except, Flags: flags}, nil
}

// SocketInfo describes one socket in a fetchSockets answer.
type SocketInfo struct {
	ID        string
	Handshake Value // {headers,time,address,xdomain,secure,issued,url,query,auth}
	Rooms     []string
	Data      Value
}

func (s SocketInfo) value() Value {
	return MapValue(
		M("id", StringValue(s.ID)),
		M("handshake", s.Handshake),
		M("rooms", StringsValue(nonNil(s.Rooms))),
		M("data", s.Data),
	)
}

func socketInfosValue(ss []SocketInfo) Value {
	out := make([]Value, len(ss))
	for i, s := range ss {
		out[i] = s.value()
	}
	return ArrayValue(out...)
}

func socketInfosFrom(v Value) ([]SocketInfo, error) {
	if v.Kind() != Array {
		return nil, malformed("sockets is not an array")
	}
	out := make([]SocketInfo, 0, v.Len())
	for _, e := range v.Elems() {
		id, ok := e.Get("id").Str()
		if !ok {
			return nil, malformed("socket without id")
		}
		rooms, ok := e.Get("rooms").Strings()
		if !ok {
			return nil, malformed("socket rooms is not an array of strings")
		}
		out = append(out, SocketInfo{ID: id, Handshake: e.Get("handshake"), Rooms: rooms, Data: e.Get("data")})
	}
	return out, nil
}

// decodeAny parses a message that is JSON when it starts with '{' and
// msgpack otherwise, as the Node adapters do.
func decodeAny(b []byte) (Value, error) {
	if len(b) == 0 {
		return Value{}, malformed("empty message")
	}
	if b[0] == '{' {
		return ParseJSON(b)
	}
	return DecodeMsgpack(b)
}

// decodeTyped decodes raw (JSON or msgpack) and checks that it is an
// object with an integer "type" (see typedObject).
func decodeTyped(raw []byte, what string) (Value, int64, error) {
	v, err := decodeAny(raw)
	if err != nil {
		return Value{}, 0, err
	}
	t, err := typedObject(v, what)
	return v, t, err
}

// typedObject checks that v is an object with an integer "type" and
// returns the type; what names v in errors.
func typedObject(v Value, what string) (int64, error) {
	if v.Kind() != Map {
		return 0, malformed("%s is not an object", what)
	}
	t, ok := v.Get("type").Int()
	if !ok {
		return 0, malformed("%s without type", what)
	}
	return t, nil
}

func optString(v Value, key string) (string, error) {
	x := v.Get(key)
	if x.IsUndefined() || x.Kind() == Null {
		return "", nil
	}
	if s, ok := x.Str(); ok {
		return s, nil
	}
	if x.Kind() == Int || x.Kind() == Float {
		return string(appendJSNumber(nil, x)), nil
	}
	return "", malformed("%s is not a string", key)
}
