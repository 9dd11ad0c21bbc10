package wire

// Classic mode: @socket.io/redis-adapter's createAdapter. Broadcasts are
// msgpack [uid, packet, opts] on "<prefix>#<nsp>#[<room>#]"; requests and
// responses travel on "<prefix>-request#<nsp>#" and "<prefix>-response#<nsp>#".

// DefaultPrefix is the channel prefix both Node adapters use by default.
const DefaultPrefix = "socket.io"

// EmitterUID is the uid @socket.io/redis-emitter puts in its broadcasts.
const EmitterUID = "emitter"

// BroadcastChannel is the channel a classic broadcast is published on: the
// room's own channel when exactly one room is targeted.
func BroadcastChannel(prefix, nsp string, rooms []string) string {
	ch := prefix + "#" + nsp + "#"
	if len(rooms) == 1 {
		ch += rooms[0] + "#"
	}
	return ch
}

// BroadcastPattern is the pattern every classic node PSUBSCRIBEs to.
func BroadcastPattern(prefix, nsp string) string { return prefix + "#" + nsp + "#*" }

// RequestChannel is the classic request channel of a namespace.
func RequestChannel(prefix, nsp string) string { return prefix + "-request#" + nsp + "#" }

// ResponseChannel is the shared classic response channel of a namespace.
func ResponseChannel(prefix, nsp string) string { return prefix + "-response#" + nsp + "#" }

// SpecificResponseChannel is a node's own response channel.
func SpecificResponseChannel(prefix, nsp, uid string) string {
	return ResponseChannel(prefix, nsp) + uid + "#"
}

// Broadcast is a classic-mode broadcast message.
type Broadcast struct {
	UID    string
	Packet Packet
	Opts   Opts
}

// Encode returns the notepack bytes of [uid, packet, opts].
func (b Broadcast) Encode() []byte {
	return EncodeMsgpack(ArrayValue(StringValue(b.UID), b.Packet.value(true), b.Opts.value(true)))
}

// DecodeBroadcast decodes a classic broadcast. A packet without nsp gets "/".
func DecodeBroadcast(raw []byte) (Broadcast, error) {
	v, err := DecodeMsgpack(raw)
	if err != nil {
		return Broadcast{}, err
	}
	if v.Kind() != Array || v.Len() < 3 {
		return Broadcast{}, malformed("broadcast is not [uid, packet, opts]")
	}
	e := v.Elems()
	uid, _ := e[0].Str()
	p, err := packetFrom(e[1])
	if err != nil {
		return Broadcast{}, err
	}
	o, err := optsFrom(e[2])
	if err != nil {
		return Broadcast{}, err
	}
	return Broadcast{UID: uid, Packet: p, Opts: o}, nil
}

// RequestType is the type of a classic request or response.
type RequestType int

// Classic request types, as numbered by @socket.io/redis-adapter.
const (
	ReqSockets RequestType = iota
	ReqAllRooms
	ReqRemoteJoin
	ReqRemoteLeave
	ReqRemoteDisconnect
	ReqRemoteFetch
	ReqServerSideEmit
	ReqBroadcast
	ReqBroadcastClientCount
	ReqBroadcastAck
)

// Request is a classic-mode request. Which fields matter depends on Type.
type Request struct {
	UID       string // empty from redis-emitter
	RequestID string // empty when no answer is expected
	Type      RequestType
	Rooms     []string // Sockets: filter; RemoteJoin/Leave: rooms to join/leave
	Opts      *Opts    // RemoteJoin/Leave/Disconnect/Fetch (rooms+except); Broadcast (with flags)
	SID       string   // legacy single-socket RemoteJoin/Leave/Disconnect
	Room      string   // legacy single-socket RemoteJoin/Leave
	Close     bool     // RemoteDisconnect
	Data      Value    // ServerSideEmit: the array [event, ...args]
	Packet    Packet   // Broadcast
}

// Encode writes the request as the Node adapter would: msgpack for a
// broadcast with acks, JSON otherwise.
func (r Request) Encode() []byte {
	ms := make([]Member, 0, 6)
	if r.UID != "" {
		ms = append(ms, M("uid", StringValue(r.UID)))
	}
	if r.RequestID != "" {
		ms = append(ms, M("requestId", StringValue(r.RequestID)))
	}
	ms = append(ms, M("type", IntValue(int64(r.Type))))
	switch r.Type {
	case ReqSockets:
		ms = append(ms, M("rooms", StringsValue(nonNil(r.Rooms))))
	case ReqRemoteJoin, ReqRemoteLeave, ReqRemoteDisconnect, ReqRemoteFetch:
		if r.Opts != nil {
			ms = append(ms, M("opts", r.Opts.value(false)))
		} else {
			ms = append(ms, M("sid", StringValue(r.SID)))
			if r.Type != ReqRemoteDisconnect {
				ms = append(ms, M("room", StringValue(r.Room)))
			}
		}
		switch r.Type {
		case ReqRemoteJoin, ReqRemoteLeave:
			if r.Opts != nil {
				ms = append(ms, M("rooms", StringsValue(nonNil(r.Rooms))))
			}
		case ReqRemoteDisconnect:
			ms = append(ms, M("close", BoolValue(r.Close)))
		}
	case ReqServerSideEmit:
		ms = append(ms, M("data", r.Data))
	case ReqBroadcast:
		var o Opts
		if r.Opts != nil {
			o = *r.Opts
		}
		ms = append(ms, M("packet", r.Packet.value(true)), M("opts", o.value(true)))
		return EncodeMsgpack(MapValue(ms...))
	}
	return AppendJSON(nil, MapValue(ms...))
}

// DecodeRequest decodes a classic request (JSON or msgpack).
func DecodeRequest(raw []byte) (Request, error) {
	v, t, err := decodeTyped(raw, "request")
	if err != nil {
		return Request{}, err
	}
	r := Request{Type: RequestType(t)}
	var ok bool
	if r.UID, err = optString(v, "uid"); err != nil {
		return Request{}, err
	}
	if r.RequestID, err = optString(v, "requestId"); err != nil {
		return Request{}, err
	}
	switch r.Type {
	case ReqSockets:
		if r.Rooms, ok = v.Get("rooms").Strings(); !ok {
			return Request{}, malformed("rooms is not an array of strings")
		}
	case ReqRemoteJoin, ReqRemoteLeave, ReqRemoteDisconnect, ReqRemoteFetch:
		if ov := v.Get("opts"); !ov.IsUndefined() {
			o, err := optsFrom(ov)
			if err != nil {
				return Request{}, err
			}
			r.Opts = &o
		} else if r.Type == ReqRemoteFetch {
			return Request{}, malformed("fetch request without opts")
		} else {
			r.SID, _ = v.Get("sid").Str()
			r.Room, _ = v.Get("room").Str()
		}
		if r.Type == ReqRemoteJoin || r.Type == ReqRemoteLeave {
			if r.Rooms, ok = v.Get("rooms").Strings(); !ok {
				return Request{}, malformed("rooms is not an array of strings")
			}
		}
		r.Close = v.Get("close").Truthy()
	case ReqServerSideEmit:
		r.Data = v.Get("data")
		if r.Data.Kind() != Array || r.Data.Len() == 0 {
			return Request{}, malformed("server-side emit data is not a non-empty array")
		}
	case ReqBroadcast:
		if r.Packet, err = packetFrom(v.Get("packet")); err != nil {
			return Request{}, err
		}
		o, err := optsFrom(v.Get("opts"))
		if err != nil {
			return Request{}, err
		}
		r.Opts = &o
		if r.RequestID == "" {
			return Request{}, malformed("broadcast request without requestId")
		}
	}
	return r, nil
}

// Response is a classic-mode response. Answers to Sockets, AllRooms and
// RemoteFetch carry no type field; the others do.
type Response struct {
	Type        RequestType // valid when HasType
	HasType     bool
	RequestID   string
	SocketIDs   []string     // answer to Sockets
	Sockets     []SocketInfo // answer to RemoteFetch
	Rooms       []string     // answer to AllRooms
	Data        Value        // ServerSideEmit ack argument
	ClientCount int          // BroadcastClientCount
	Packet      Value        // BroadcastAck argument
	hasSockets  bool
	hasRooms    bool
}

// HasSockets reports whether the response carried a sockets array.
func (r Response) HasSockets() bool { return r.hasSockets }

// HasRooms reports whether the response carried a rooms array.
func (r Response) HasRooms() bool { return r.hasRooms }

// SocketIDsResponse answers a Sockets request.
func SocketIDsResponse(requestID string, ids []string) []byte {
	return AppendJSON(nil, MapValue(M("requestId", StringValue(requestID)), M("sockets", StringsValue(nonNil(ids)))))
}

// AllRoomsResponse answers an AllRooms request.
func AllRoomsResponse(requestID string, rooms []string) []byte {
	return AppendJSON(nil, MapValue(M("requestId", StringValue(requestID)), M("rooms", StringsValue(nonNil(rooms)))))
}

// FetchResponse answers a RemoteFetch request.
func FetchResponse(requestID string, sockets []SocketInfo) []byte {
	return AppendJSON(nil, MapValue(M("requestId", StringValue(requestID)), M("sockets", socketInfosValue(sockets))))
}

// AckResponse answers a legacy single-socket join/leave/disconnect.
func AckResponse(requestID string) []byte {
	return AppendJSON(nil, MapValue(M("requestId", StringValue(requestID))))
}

// ServerSideEmitResponse carries one server's acknowledgement argument.
func ServerSideEmitResponse(requestID string, arg Value) []byte {
	return AppendJSON(nil, MapValue(
		M("type", IntValue(int64(ReqServerSideEmit))),
		M("requestId", StringValue(requestID)),
		M("data", arg)))
}

// ClientCountResponse tells the requester how many client acks to expect.
func ClientCountResponse(requestID string, n int) []byte {
	return AppendJSON(nil, MapValue(
		M("type", IntValue(int64(ReqBroadcastClientCount))),
		M("requestId", StringValue(requestID)),
		M("clientCount", IntValue(int64(n)))))
}

// BroadcastAckResponse carries one client's acknowledgement (msgpack).
func BroadcastAckResponse(requestID string, arg Value) []byte {
	return EncodeMsgpack(MapValue(
		M("type", IntValue(int64(ReqBroadcastAck))),
		M("requestId", StringValue(requestID)),
		M("packet", arg)))
}

// DecodeResponse decodes a classic response (JSON or msgpack).
func DecodeResponse(raw []byte) (Response, error) {
	v, err := decodeAny(raw)
	if err != nil {
		return Response{}, err
	}
	if v.Kind() != Map {
		return Response{}, malformed("response is not an object")
	}
	var r Response
	if r.RequestID, err = optString(v, "requestId"); err != nil {
		return Response{}, err
	}
	if t, ok := v.Get("type").Int(); ok {
		r.Type, r.HasType = RequestType(t), true
	}
	if s := v.Get("sockets"); s.Kind() == Array {
		r.hasSockets = true
		if s.Len() > 0 && s.Elems()[0].Kind() == Map {
			if r.Sockets, err = socketInfosFrom(s); err != nil {
				return Response{}, err
			}
		} else if r.SocketIDs, _ = s.Strings(); r.SocketIDs == nil {
			r.SocketIDs = []string{}
		}
	}
	if rooms, ok := v.Get("rooms").Strings(); ok && v.Get("rooms").Kind() == Array {
		r.Rooms, r.hasRooms = rooms, true
	}
	r.Data = v.Get("data")
	r.Packet = v.Get("packet")
	if n, ok := v.Get("clientCount").Float(); ok {
		r.ClientCount = int(n)
	}
	return r, nil
}
