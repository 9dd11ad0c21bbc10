package redisadapter

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/redisadapter/wire"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// argsToValue converts socketio arguments (json.RawMessage, []byte, trees
// of map/slice, or any JSON-marshalable value) to a wire array.
func argsToValue(args []any) (wire.Value, error) {
	out := make([]wire.Value, len(args))
	for i, a := range args {
		v, err := anyToValue(a, 0)
		if err != nil {
			return wire.Value{}, err
		}
		out[i] = v
	}
	return wire.ArrayValue(out...), nil
}

func anyToValue(x any, depth int) (wire.Value, error) {
	if depth > 64 {
		return wire.Value{}, fmt.Errorf("redisadapter: argument nested too deep")
	}
	switch x := x.(type) {
	case nil:
		return wire.NullValue(), nil
	case wire.Value:
		return x, nil
	case json.RawMessage:
		if x == nil {
			return wire.NullValue(), nil
		}
		return wire.ParseJSON(x)
	case []byte:
		return wire.BinaryValue(x), nil
	case string:
		return wire.StringValue(x), nil
	case bool:
		return wire.BoolValue(x), nil
	case int:
		return wire.IntValue(int64(x)), nil
	case int64:
		return wire.IntValue(x), nil
	case float64:
		return wire.FloatValue(x), nil
	case json.Number:
		return wire.ParseJSON([]byte(x))
	case []any:
		out := make([]wire.Value, len(x))
		for i, e := range x {
			v, err := anyToValue(e, depth+1)
			if err != nil {
				return wire.Value{}, err
			}
			out[i] = v
		}
		return wire.ArrayValue(out...), nil
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		ms := make([]wire.Member, len(keys))
		for i, k := range keys {
			v, err := anyToValue(x[k], depth+1)
			if err != nil {
				return wire.Value{}, err
			}
			ms[i] = wire.M(k, v)
		}
		return wire.MapValue(ms...), nil
	}
	b, err := json.Marshal(x)
	if err != nil {
		return wire.Value{}, fmt.Errorf("redisadapter: encode argument: %w", err)
	}
	return wire.ParseJSON(b)
}

// valueToArgs converts a wire array to socketio arguments: raw JSON for
// elements without binary, []byte for a blob, a map/slice tree otherwise.
func valueToArgs(v wire.Value) []any {
	elems := v.Elems()
	out := make([]any, len(elems))
	for i, e := range elems {
		out[i] = valueToAny(e)
	}
	return out
}

func valueToAny(v wire.Value) any {
	if b, ok := v.Bytes(); ok {
		return b
	}
	if !v.HasBinary() {
		return json.RawMessage(wire.AppendJSON(nil, v))
	}
	if v.Kind() == wire.Array {
		out := make([]any, v.Len())
		for i, e := range v.Elems() {
			out[i] = valueToAny(e)
		}
		return out
	}
	out := make(map[string]any, v.Len())
	for _, m := range v.Members() {
		if !m.Val.IsUndefined() {
			out[m.Key] = valueToAny(m.Val)
		}
	}
	return out
}

// ackArgs turns one acknowledgement value (Node sends only the first
// argument) into socketio arguments.
func ackArgs(v wire.Value) []any {
	if v.IsUndefined() {
		return []any{json.RawMessage("null")}
	}
	return []any{valueToAny(v)}
}

// firstArg returns the first ack argument as a wire value (Undefined when
// there is none, so the key is omitted like JSON.stringify does).
func firstArg(args []any) wire.Value {
	if len(args) == 0 {
		return wire.Value{}
	}
	v, err := anyToValue(args[0], 0)
	if err != nil {
		return wire.NullValue()
	}
	return v
}

// validEvent reports whether a remote packet is an EVENT a client accepts:
// a non-empty array whose first element is a non-reserved name (or a
// number). Anything else would make every receiving client drop its
// connection with a parse error, so it is not delivered.
func validEvent(p wire.Packet) bool {
	if p.Type != wire.PacketTypeEvent || p.Data.Kind() != wire.Array || p.Data.Len() == 0 {
		return false
	}
	switch first := p.Data.Elems()[0]; first.Kind() {
	case wire.String:
		name, _ := first.Str()
		return !parser.IsReservedEvent(name)
	case wire.Int, wire.Uint, wire.Float:
		return true
	}
	return false
}

func packetFromWire(p wire.Packet) *parser.Packet {
	return &parser.Packet{Type: parser.Event, Nsp: p.NSP, Args: valueToArgs(p.Data)}
}

func wireOpts(o adapter.BroadcastOptions) wire.Opts {
	return wire.Opts{Rooms: o.Rooms, Except: o.Except, Flags: wire.MakeFlags(wire.Flags{
		Volatile: o.Flags.Volatile, Local: o.Flags.Local, Compress: o.Flags.Compress, Timeout: o.Flags.Timeout,
	})}
}

func adapterOpts(o wire.Opts) adapter.BroadcastOptions {
	out := adapter.BroadcastOptions{Rooms: o.Rooms, Except: o.Except}
	out.Flags.Volatile = o.Volatile()
	out.Flags.Local = o.Local()
	if c, set := o.Compress(); set {
		out.Flags.Compress = &c
	}
	out.Flags.Timeout = o.Timeout()
	return out
}

// jsDate formats a time the way Node's String(new Date()) does, in UTC.
func jsDate(t time.Time) string {
	return t.UTC().Format("Mon Jan 02 2006 15:04:05") + " GMT+0000 (Coordinated Universal Time)"
}

func socketInfoToWire(s adapter.SocketInfo) wire.SocketInfo {
	h := s.Handshake
	var hdr []wire.Member
	for _, k := range slices.Sorted(maps.Keys(h.Header)) {
		hdr = append(hdr, wire.M(strings.ToLower(k), wire.StringValue(strings.Join(h.Header[k], ", "))))
	}
	var q []wire.Member
	for _, k := range slices.Sorted(maps.Keys(h.Query)) {
		vals := h.Query[k]
		if len(vals) == 1 {
			q = append(q, wire.M(k, wire.StringValue(vals[0])))
		} else {
			q = append(q, wire.M(k, wire.StringsValue(vals)))
		}
	}
	auth := wire.MapValue()
	if len(h.Auth) > 0 {
		if v, err := wire.ParseJSON(h.Auth); err == nil {
			auth = v
		}
	}
	hs := wire.MapValue(
		wire.M("headers", wire.MapValue(hdr...)),
		wire.M("time", wire.StringValue(jsDate(h.Time))),
		wire.M("address", wire.StringValue(h.Address)),
		wire.M("xdomain", wire.BoolValue(h.XDomain)),
		wire.M("secure", wire.BoolValue(h.Secure)),
		wire.M("issued", wire.IntValue(h.Issued)),
		wire.M("url", wire.StringValue(h.URL)),
		wire.M("query", wire.MapValue(q...)),
		wire.M("auth", auth),
	)
	data, err := anyToValue(s.Data, 0)
	if err != nil || s.Data == nil {
		data = wire.Value{}
	}
	return wire.SocketInfo{ID: s.ID, Handshake: hs, Rooms: s.Rooms, Data: data}
}

func socketInfoFromWire(s wire.SocketInfo) adapter.SocketInfo {
	hs := s.Handshake
	h := adapter.Handshake{Header: http.Header{}, Query: url.Values{}}
	for _, m := range hs.Get("headers").Members() {
		if v, ok := m.Val.Str(); ok {
			h.Header.Set(m.Key, v)
		} else if vs, ok := m.Val.Strings(); ok {
			h.Header[http.CanonicalHeaderKey(m.Key)] = vs
		}
	}
	for _, m := range hs.Get("query").Members() {
		if v, ok := m.Val.Str(); ok {
			h.Query.Set(m.Key, v)
		} else if vs, ok := m.Val.Strings(); ok {
			h.Query[m.Key] = vs
		}
	}
	if ts, ok := hs.Get("time").Str(); ok {
		if t, err := time.Parse("Mon Jan 02 2006 15:04:05 GMT-0700", strings.SplitN(ts, " (", 2)[0]); err == nil {
			h.Time = t
		}
	}
	h.Address, _ = hs.Get("address").Str()
	h.XDomain, _ = hs.Get("xdomain").Bool()
	h.Secure, _ = hs.Get("secure").Bool()
	if f, ok := hs.Get("issued").Float(); ok {
		h.Issued = int64(f)
		if h.Time.IsZero() {
			h.Time = time.UnixMilli(h.Issued)
		}
	}
	h.URL, _ = hs.Get("url").Str()
	if a := hs.Get("auth"); !a.IsUndefined() {
		h.Auth = json.RawMessage(wire.AppendJSON(nil, a))
	}
	var data any
	if !s.Data.IsUndefined() {
		data = json.RawMessage(wire.AppendJSON(nil, s.Data))
	}
	return adapter.SocketInfo{ID: s.ID, Handshake: h, Rooms: s.Rooms, Data: data}
}
