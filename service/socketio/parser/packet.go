package parser

import (
	"encoding/json"
	"errors"
	"strconv"
)

// Type is a Socket.IO packet type.
type Type byte

// Socket.IO v5 packet types.
const (
	Connect      Type = 0
	Disconnect   Type = 1
	Event        Type = 2
	Ack          Type = 3
	ConnectError Type = 4
	BinaryEvent  Type = 5
	BinaryAck    Type = 6
)

func (t Type) String() string {
	switch t {
	case Connect:
		return "CONNECT"
	case Disconnect:
		return "DISCONNECT"
	case Event:
		return "EVENT"
	case Ack:
		return "ACK"
	case ConnectError:
		return "CONNECT_ERROR"
	case BinaryEvent:
		return "BINARY_EVENT"
	case BinaryAck:
		return "BINARY_ACK"
	}
	return "UNKNOWN(" + strconv.Itoa(int(t)) + ")"
}

// Packet is one Socket.IO packet.
//
// For EVENT and ACK packets (and their binary forms) Args holds the array
// payload: for an event, Args[0] is the event name. Each element is one of
// json.RawMessage (raw JSON, kept byte-for-byte), []byte (a binary
// attachment), or — on encode only — any value encoding/json can marshal;
// []any and map[string]any are walked so nested []byte become attachments
// too. Decoded elements that contain nested attachments are returned as a
// tree of map[string]any / []any / json.Number / string / bool / nil with
// []byte in place of the placeholders.
//
// For CONNECT, CONNECT_ERROR and DISCONNECT packets Payload holds the raw
// JSON payload (nil when absent).
type Packet struct {
	Type    Type
	Nsp     string // "" is treated as "/"
	HasID   bool
	ID      uint64
	Args    []any
	Payload json.RawMessage
}

// Namespace returns the packet namespace, "/" when empty.
func (p *Packet) Namespace() string {
	if p.Nsp == "" {
		return "/"
	}
	return p.Nsp
}

// Frame is one Engine.IO message: text (Binary false) or binary.
type Frame struct {
	Data   []byte
	Binary bool
}

// Errors returned by the decoder. All of them mean the connection sent an
// invalid packet and must be closed.
var (
	ErrUnknownType        = errors.New("parser: unknown packet type")
	ErrIllegalAttachments = errors.New("parser: illegal attachments")
	ErrTooManyAttachments = errors.New("parser: too many attachments")
	ErrInvalidAckID       = errors.New("parser: invalid ack id")
	ErrInvalidPayload     = errors.New("parser: invalid payload")
	ErrUnexpectedBinary   = errors.New("parser: got binary data when not reconstructing a packet")
	ErrUnexpectedText     = errors.New("parser: got plaintext data when reconstructing a packet")
	ErrEmptyPacket        = errors.New("parser: empty packet")
	ErrAttachmentTooLarge = errors.New("parser: attachment too large")
)

// reserved event names a client may not emit (socket.io-parser RESERVED_EVENTS).
var reserved = map[string]struct{}{
	"connect":        {},
	"connect_error":  {},
	"disconnect":     {},
	"disconnecting":  {},
	"newListener":    {},
	"removeListener": {},
}

// IsReservedEvent reports whether name is reserved by Socket.IO.
func IsReservedEvent(name string) bool {
	_, ok := reserved[name]
	return ok
}
