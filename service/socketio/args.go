package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hubkit/hubkit/service/socketio/parser"
	"strconv"
)

// Args are the arguments of an event or acknowledgement. Each element is a
// json.RawMessage (raw JSON as received), a []byte (a binary attachment), or
// a decoded tree (map[string]any / []any) when binary data was nested inside
// an object or array.
type Args []any

// ErrNoArg is returned when an argument index is out of range.
var ErrNoArg = errors.New("socketio: no such argument")

// Len returns the number of arguments.
func (a Args) Len() int { return len(a) }

// Raw returns argument i as raw JSON, or nil if it is absent or binary.
func (a Args) Raw(i int) json.RawMessage {
	if i < 0 || i >= len(a) {
		return nil
	}
	r, _ := a[i].(json.RawMessage)
	return r
}

// Bytes returns argument i when it is binary.
func (a Args) Bytes(i int) ([]byte, bool) {
	if i < 0 || i >= len(a) {
		return nil, false
	}
	b, ok := a[i].([]byte)
	return b, ok
}

// Decode unmarshals argument i into v. A binary argument can be decoded into
// a *[]byte.
func (a Args) Decode(i int, v any) error {
	if i < 0 || i >= len(a) {
		return fmt.Errorf("%w: %d", ErrNoArg, i)
	}
	switch x := a[i].(type) {
	case json.RawMessage:
		return json.Unmarshal(x, v)
	case []byte:
		if p, ok := v.(*[]byte); ok {
			*p = x
			return nil
		}
		return fmt.Errorf("socketio: argument %d is binary", i)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, v)
	}
}

// String returns argument i as a string when it is a JSON string.
func (a Args) String(i int) (string, error) {
	var s string
	err := a.Decode(i, &s)
	return s, err
}

// MarshalJSON writes the arguments as a JSON array (binary as base64).
func (a Args) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, v := range a {
		if i > 0 {
			buf.WriteByte(',')
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// eventName returns the event name of a decoded EVENT (string or number).
func eventName(first any) (string, bool) {
	raw, ok := first.(json.RawMessage)
	if !ok || len(raw) == 0 {
		return "", false
	}
	if raw[0] == '"' {
		return parser.Unquote(raw)
	}
	if _, err := strconv.ParseFloat(string(raw), 64); err == nil {
		return string(raw), true
	}
	return "", false
}

// AckFunc answers a client's acknowledgement request. It returns
// ErrAckAlreadySent if called more than once.
type AckFunc func(args ...any) error

// EventHandler handles one event. ack is nil when the client asked for no
// acknowledgement.
type EventHandler func(args Args, ack AckFunc)

// AnyHandler handles every event (Node's socket.onAny).
type AnyHandler func(event string, args Args)

// Middleware runs at CONNECT before the socket is connected; a non-nil
// error rejects it with a CONNECT_ERROR. Return a *ConnectError to send
// data along with the message.
type Middleware func(s *Socket) error

// ConnectError rejects a connection from middleware: the client's
// connect_error carries Message and Data.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

// connectErrorPayload encodes {"message","data"} for a CONNECT_ERROR.
func connectErrorPayload(err error) json.RawMessage {
	var ce *ConnectError
	msg := err.Error()
	var data any
	if errors.As(err, &ce) {
		msg, data = ce.Message, ce.Data
	}
	type payload struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}
	b, mErr := json.Marshal(payload{Message: msg, Data: data})
	if mErr != nil {
		b, _ = json.Marshal(payload{Message: msg})
	}
	return b
}

// splitAck separates a trailing acknowledgement callback from args.
func splitAck(args []any) ([]any, func(error, Args), bool, error) {
	if len(args) == 0 {
		return args, nil, false, nil
	}
	switch f := args[len(args)-1].(type) {
	case func(Args):
		return args[:len(args)-1], func(err error, a Args) {
			if err == nil {
				f(a)
			}
		}, false, nil
	case func(error, Args):
		return args[:len(args)-1], f, true, nil
	case func(error, []Args):
		return args[:len(args)-1], nil, true, errors.New("socketio: func(error, []Args) is a broadcast ack callback")
	}
	return args, nil, false, nil
}
