package wire

// Sharded mode: @socket.io/redis-adapter's createShardedAdapter (the
// socket.io-adapter ClusterAdapter protocol over SSUBSCRIBE/SPUBLISH).
// Messages are JSON {type,data,uid,nsp}, msgpack when binary is present.

// MessageType is a ClusterAdapter message type.
type MessageType int

// ClusterAdapter message types (socket.io-adapter 2.5).
const (
	MsgInitialHeartbeat MessageType = iota + 1
	MsgHeartbeat
	MsgBroadcast
	MsgSocketsJoin
	MsgSocketsLeave
	MsgDisconnectSockets
	MsgFetchSockets
	MsgFetchSocketsResponse
	MsgServerSideEmit
	MsgServerSideEmitResponse
	MsgBroadcastClientCount
	MsgBroadcastAck
	MsgAdapterClose
)

// IsResponse reports whether t answers a request.
func (t MessageType) IsResponse() bool {
	switch t {
	case MsgFetchSocketsResponse, MsgServerSideEmitResponse, MsgBroadcastClientCount, MsgBroadcastAck:
		return true
	}
	return false
}

// ShardedChannel is the namespace's main sharded channel.
func ShardedChannel(prefix, nsp string) string { return prefix + "#" + nsp + "#" }

// ShardedRoomChannel is the dynamic channel of a room (and, with a node uid
// as room, that node's response channel).
func ShardedRoomChannel(prefix, nsp, room string) string {
	return prefix + "#" + nsp + "#" + room + "#"
}

// LooksLikeSocketID is the dynamic mode's test for private rooms.
func LooksLikeSocketID(room string) bool { return len(room) == 20 }

// ClusterMessage is one sharded-mode message. Which fields matter depends on Type.
type ClusterMessage struct {
	Type        MessageType
	UID         string
	NSP         string
	RequestID   string       // Broadcast with acks, FetchSockets, ServerSideEmit with ack, responses
	Packet      Packet       // Broadcast (its NSP is not written)
	Opts        Opts         // Broadcast, SocketsJoin/Leave, DisconnectSockets, FetchSockets
	Rooms       []string     // SocketsJoin/Leave
	Close       bool         // DisconnectSockets
	Args        Value        // ServerSideEmit: [event, ...args]
	Sockets     []SocketInfo // FetchSocketsResponse
	Ack         Value        // ServerSideEmitResponse, BroadcastAck: the argument
	ClientCount int          // BroadcastClientCount
}

func (m ClusterMessage) data() Value {
	rid := func(ms []Member) []Member {
		if m.RequestID != "" {
			ms = append(ms, M("requestId", StringValue(m.RequestID)))
		}
		return ms
	}
	switch m.Type {
	case MsgBroadcast:
		ms := rid([]Member{M("packet", m.Packet.value(false))})
		return MapValue(append(ms, M("opts", m.Opts.value(true)))...)
	case MsgSocketsJoin, MsgSocketsLeave:
		return MapValue(M("opts", m.Opts.value(true)), M("rooms", StringsValue(nonNil(m.Rooms))))
	case MsgDisconnectSockets:
		return MapValue(M("opts", m.Opts.value(true)), M("close", BoolValue(m.Close)))
	case MsgFetchSockets:
		return MapValue(rid([]Member{M("opts", m.Opts.value(true))})...)
	case MsgFetchSocketsResponse:
		return MapValue(rid(nil)...).with(M("sockets", socketInfosValue(m.Sockets)))
	case MsgServerSideEmit:
		return MapValue(append(rid(nil), M("packet", m.Args))...)
	case MsgServerSideEmitResponse, MsgBroadcastAck:
		return MapValue(append(rid(nil), M("packet", m.Ack))...)
	case MsgBroadcastClientCount:
		return MapValue(append(rid(nil), M("clientCount", IntValue(int64(m.ClientCount))))...)
	}
	return Value{}
}

func (v Value) with(m Member) Value {
	ms := append(append([]Member(nil), v.members...), m)
	return MapValue(ms...)
}

// Encode writes the message as ShardedRedisAdapter.encode does: msgpack when
// a binary-capable message holds binary, JSON otherwise.
func (m ClusterMessage) Encode() []byte {
	v, data := m.value()
	switch m.Type {
	case MsgBroadcast, MsgBroadcastAck, MsgFetchSocketsResponse, MsgServerSideEmit, MsgServerSideEmitResponse:
		if data.HasBinary() {
			return EncodeMsgpack(v)
		}
	}
	return AppendJSON(nil, v)
}

// EncodeMsgpack writes the message in msgpack, as the streams adapter
// publishes its ephemeral messages.
func (m ClusterMessage) EncodeMsgpack() []byte {
	v, _ := m.value()
	return EncodeMsgpack(v)
}

func (m ClusterMessage) value() (msg, data Value) {
	data = m.data()
	return MapValue(
		M("type", IntValue(int64(m.Type))),
		M("data", data),
		M("uid", StringValue(m.UID)),
		M("nsp", StringValue(m.NSP)),
	), data
}

// DecodeCluster decodes a sharded-mode message (JSON or msgpack).
func DecodeCluster(raw []byte) (ClusterMessage, error) {
	v, t, err := decodeTyped(raw, "message")
	if err != nil {
		return ClusterMessage{}, err
	}
	uid, err := optString(v, "uid")
	if err != nil {
		return ClusterMessage{}, err
	}
	nsp, err := optString(v, "nsp")
	if err != nil {
		return ClusterMessage{}, err
	}
	return clusterFromParts(MessageType(t), uid, nsp, v.Get("data"))
}

func clusterFromParts(t MessageType, uid, nsp string, d Value) (ClusterMessage, error) {
	m := ClusterMessage{Type: t, UID: uid, NSP: nsp}
	var err error
	var ok bool
	needData := m.Type >= MsgBroadcast && m.Type <= MsgBroadcastAck
	if needData && d.Kind() != Map {
		return ClusterMessage{}, malformed("message of type %d without data", t)
	}
	if m.RequestID, err = optString(d, "requestId"); err != nil {
		return ClusterMessage{}, err
	}
	switch m.Type {
	case MsgBroadcast:
		pv := d.Get("packet")
		if pv.Kind() == Map && pv.Get("nsp").IsUndefined() {
			pv = pv.with(M("nsp", StringValue(m.NSP)))
		}
		if m.Packet, err = packetFrom(pv); err != nil {
			return ClusterMessage{}, err
		}
		if m.Opts, err = optsFrom(d.Get("opts")); err != nil {
			return ClusterMessage{}, err
		}
	case MsgSocketsJoin, MsgSocketsLeave, MsgDisconnectSockets, MsgFetchSockets:
		if m.Opts, err = optsFrom(d.Get("opts")); err != nil {
			return ClusterMessage{}, err
		}
		if m.Type == MsgSocketsJoin || m.Type == MsgSocketsLeave {
			if m.Rooms, ok = d.Get("rooms").Strings(); !ok {
				return ClusterMessage{}, malformed("rooms is not an array of strings")
			}
		}
		m.Close = d.Get("close").Truthy()
	case MsgFetchSocketsResponse:
		if m.Sockets, err = socketInfosFrom(d.Get("sockets")); err != nil {
			return ClusterMessage{}, err
		}
	case MsgServerSideEmit:
		m.Args = d.Get("packet")
		if m.Args.Kind() != Array || m.Args.Len() == 0 {
			return ClusterMessage{}, malformed("server-side emit packet is not a non-empty array")
		}
	case MsgServerSideEmitResponse, MsgBroadcastAck:
		m.Ack = d.Get("packet")
	case MsgBroadcastClientCount:
		n, _ := d.Get("clientCount").Float()
		m.ClientCount = int(n)
	}
	return m, nil
}
