package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Encode encodes p into Engine.IO frames: one text frame, followed by one
// binary frame per attachment when the arguments contain []byte. An EVENT or
// ACK with attachments is written as BINARY_EVENT or BINARY_ACK. The
// returned frames share no memory with p except for attachment bytes.
func Encode(p *Packet) ([]Frame, error) {
	var attachments [][]byte
	var body []byte
	typ := p.Type
	switch p.Type {
	case Event, Ack, BinaryEvent, BinaryAck:
		var err error
		body, err = appendArray(make([]byte, 0, 64), p.Args, &attachments)
		if err != nil {
			return nil, err
		}
		if len(attachments) > 0 {
			if typ == Event {
				typ = BinaryEvent
			} else if typ == Ack {
				typ = BinaryAck
			}
		} else if typ == BinaryEvent {
			typ = Event
		} else if typ == BinaryAck {
			typ = Ack
		}
	case Connect, Disconnect, ConnectError:
		body = p.Payload
	default:
		return nil, fmt.Errorf("%w: %d", ErrUnknownType, p.Type)
	}
	nsp := p.Namespace()
	buf := make([]byte, 0, 1+8+len(nsp)+1+20+len(body))
	buf = append(buf, '0'+byte(typ))
	if typ == BinaryEvent || typ == BinaryAck {
		buf = strconv.AppendInt(buf, int64(len(attachments)), 10)
		buf = append(buf, '-')
	}
	if nsp != "/" {
		buf = append(buf, nsp...)
		buf = append(buf, ',')
	}
	if p.HasID {
		buf = strconv.AppendUint(buf, p.ID, 10)
	}
	buf = append(buf, body...)
	frames := make([]Frame, 1, 1+len(attachments))
	frames[0] = Frame{Data: buf}
	for _, a := range attachments {
		frames = append(frames, Frame{Data: a, Binary: true})
	}
	return frames, nil
}

func appendArray(buf []byte, vals []any, att *[][]byte) ([]byte, error) {
	buf = append(buf, '[')
	for i, v := range vals {
		if i > 0 {
			buf = append(buf, ',')
		}
		var err error
		buf, err = appendValue(buf, v, att)
		if err != nil {
			return nil, err
		}
	}
	return append(buf, ']'), nil
}

func appendPlaceholder(buf []byte, b []byte, att *[][]byte) []byte {
	buf = append(buf, `{"_placeholder":true,"num":`...)
	buf = strconv.AppendInt(buf, int64(len(*att)), 10)
	*att = append(*att, b)
	return append(buf, '}')
}

func appendValue(buf []byte, v any, att *[][]byte) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case json.RawMessage:
		if x == nil {
			return append(buf, "null"...), nil
		}
		return append(buf, x...), nil
	case []byte:
		return appendPlaceholder(buf, x, att), nil
	case string:
		return AppendString(buf, x), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case uint64:
		return strconv.AppendUint(buf, x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(buf, "null"...), nil // JSON.stringify semantics
		}
		b, _ := json.Marshal(x)
		return append(buf, b...), nil
	case json.Number:
		return append(buf, x...), nil
	case []any:
		return appendArray(buf, x, att)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf = append(buf, '{')
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = AppendString(buf, k)
			buf = append(buf, ':')
			var err error
			buf, err = appendValue(buf, x[k], att)
			if err != nil {
				return nil, err
			}
		}
		return append(buf, '}'), nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("parser: encode argument: %w", err)
	}
	return append(buf, bytes.TrimRight(b.Bytes(), "\n")...), nil
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string the way JSON.stringify writes it:
// only '"', '\\' and control characters are escaped; invalid UTF-8 becomes
// U+FFFD.
func AppendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, "\ufffd"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
