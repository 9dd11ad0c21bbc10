package sio

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Engine.IO packet types (the first byte of every frame).
const (
	EIOOpen    = '0'
	EIOClose   = '1'
	EIOPing    = '2'
	EIOPong    = '3'
	EIOMessage = '4'
	EIOUpgrade = '5'
	EIONoop    = '6'
)

// Socket.IO packet types.
const (
	Connect      = 0
	Disconnect   = 1
	Event        = 2
	Ack          = 3
	ConnectError = 4
	BinaryEvent  = 5
	BinaryAck    = 6
)

// ErrPacket is wrapped by every parse error.
var ErrPacket = errors.New("sio: malformed packet")

// Packet is a decoded Socket.IO packet (the payload of an Engine.IO message).
type Packet struct {
	Type        int
	Attachments int    // binary packets only
	NSP         string // "/" when absent
	ID          int64  // ack id, -1 when absent
	Data        []byte // raw JSON, nil when absent; aliases the input
}

// ParsePacket decodes `<type>[<attachments>-][<nsp>,][<ackId>][JSON]`.
func ParsePacket(b []byte) (Packet, error) {
	p := Packet{NSP: "/", ID: -1}
	if len(b) == 0 || b[0] < '0' || b[0] > '6' {
		return p, fmt.Errorf("%w: bad type in %.20q", ErrPacket, b)
	}
	p.Type = int(b[0] - '0')
	i := 1
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			p.Attachments = p.Attachments*10 + int(b[i]-'0')
			i++
			if i-start > 9 {
				return p, fmt.Errorf("%w: attachment count too long", ErrPacket)
			}
		}
		if i == start || i >= len(b) || b[i] != '-' {
			return p, fmt.Errorf("%w: bad attachment count", ErrPacket)
		}
		i++
	}
	if i < len(b) && b[i] == '/' {
		start := i
		for i < len(b) && b[i] != ',' {
			i++
		}
		p.NSP = string(b[start:i])
		if i < len(b) {
			i++ // the ','
		}
	}
	if i < len(b) && b[i] >= '0' && b[i] <= '9' {
		start := i
		var id int64
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			id = id*10 + int64(b[i]-'0')
			i++
			if i-start > 15 {
				return p, fmt.Errorf("%w: ack id too long", ErrPacket)
			}
		}
		p.ID = id
	}
	if i < len(b) {
		p.Data = b[i:]
		if !json.Valid(p.Data) {
			return p, fmt.Errorf("%w: payload is not JSON", ErrPacket)
		}
	}
	switch p.Type {
	case Event, BinaryEvent, Ack, BinaryAck:
		if len(p.Data) == 0 || p.Data[0] != '[' {
			return p, fmt.Errorf("%w: type %d needs an array payload", ErrPacket, p.Type)
		}
	}
	return p, nil
}

// EventName returns the event name of an EVENT payload `["name", ...]` and the
// raw arguments after it.
func EventName(data []byte) (string, []json.RawMessage, error) {
	var arr []json.RawMessage
	if err := json.Unmarshal(data, &arr); err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrPacket, err)
	}
	if len(arr) == 0 {
		return "", nil, fmt.Errorf("%w: empty event", ErrPacket)
	}
	var name string
	if err := json.Unmarshal(arr[0], &name); err != nil {
		return "", nil, fmt.Errorf("%w: event name is not a string", ErrPacket)
	}
	return name, arr[1:], nil
}

// AppendEvent appends the Engine.IO message frame of an EVENT on "/" whose
// payload is the JSON array args; id < 0 means no ack requested.
func AppendEvent(dst []byte, id int64, args []byte) []byte {
	dst = append(dst, EIOMessage, '0'+Event)
	if id >= 0 {
		dst = fmt.Appendf(dst, "%d", id)
	}
	return append(dst, args...)
}
