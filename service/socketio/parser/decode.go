package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// DefaultMaxAttachments is the attachment cap when DecoderConfig leaves it
// zero (the reference socket.io-parser default).
const DefaultMaxAttachments = 10

// maxAckIDDigits bounds the ack id so it fits in a JavaScript safe integer.
const maxAckIDDigits = 15

// DecoderConfig configures a Decoder.
type DecoderConfig struct {
	// MaxAttachments is the largest attachment count a packet may announce.
	// Zero means DefaultMaxAttachments.
	MaxAttachments int
	// MaxAttachmentSize caps each binary attachment in bytes. Zero means no
	// cap beyond the Engine.IO maxPayload that already bounds every frame.
	MaxAttachmentSize int
	// MaxTotalAttachmentSize caps the sum of one packet's attachments in
	// bytes. Zero means no cap.
	MaxTotalAttachmentSize int
}

// Decoder turns the frames of one connection into packets.
type Decoder struct {
	cfg     DecoderConfig
	pending *Packet  // binary packet waiting for its attachments
	want    int      // attachments announced by pending
	buffers [][]byte // attachments received so far
	total   int      // bytes in buffers
}

// NewDecoder returns a Decoder for one connection.
func NewDecoder(cfg DecoderConfig) *Decoder {
	if cfg.MaxAttachments <= 0 {
		cfg.MaxAttachments = DefaultMaxAttachments
	}
	return &Decoder{cfg: cfg}
}

// Pending reports whether the decoder waits for binary attachments.
func (d *Decoder) Pending() bool { return d.pending != nil }

// Reset drops any partially reassembled packet.
func (d *Decoder) Reset() { d.pending, d.want, d.buffers, d.total = nil, 0, nil, 0 }

// Add feeds one frame. It returns the decoded packet when complete, nil when
// more attachment frames are needed, or an error when the input is invalid
// (the connection must then be closed). Binary frames are retained, not
// copied.
func (d *Decoder) Add(f Frame) (*Packet, error) {
	if f.Binary {
		if d.pending == nil {
			return nil, ErrUnexpectedBinary
		}
		if d.cfg.MaxAttachmentSize > 0 && len(f.Data) > d.cfg.MaxAttachmentSize {
			d.Reset()
			return nil, ErrAttachmentTooLarge
		}
		d.total += len(f.Data)
		if d.cfg.MaxTotalAttachmentSize > 0 && d.total > d.cfg.MaxTotalAttachmentSize {
			d.Reset()
			return nil, ErrAttachmentTooLarge
		}
		d.buffers = append(d.buffers, f.Data)
		if len(d.buffers) < d.want {
			return nil, nil
		}
		p, bufs := d.pending, d.buffers
		d.Reset()
		if err := reconstruct(p, bufs); err != nil {
			return nil, err
		}
		return p, nil
	}
	if d.pending != nil {
		d.Reset()
		return nil, ErrUnexpectedText
	}
	p, n, err := decodeString(f.Data, d.cfg.MaxAttachments)
	if err != nil {
		return nil, err
	}
	if (p.Type == BinaryEvent || p.Type == BinaryAck) && n > 0 {
		d.pending, d.want = p, n
		d.buffers = make([][]byte, 0, n)
		return nil, nil
	}
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		if err := reconstruct(p, nil); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// DecodeString decodes a single text frame that carries no attachments.
func DecodeString(s []byte) (*Packet, error) {
	d := NewDecoder(DecoderConfig{})
	p, err := d.Add(Frame{Data: s})
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("%w: packet announces attachments", ErrIllegalAttachments)
	}
	return p, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func decodeString(s []byte, maxAtt int) (*Packet, int, error) {
	if len(s) == 0 {
		return nil, 0, ErrEmptyPacket
	}
	if s[0] < '0' || s[0] > '6' {
		return nil, 0, ErrUnknownType
	}
	p := &Packet{Type: Type(s[0] - '0'), Nsp: "/"}
	i := 1
	attachments := 0
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		start := i
		for i < len(s) && s[i] != '-' {
			if !isDigit(s[i]) {
				return nil, 0, ErrIllegalAttachments
			}
			attachments = attachments*10 + int(s[i]-'0')
			if attachments > maxAtt {
				return nil, 0, ErrTooManyAttachments
			}
			i++
		}
		if i == start || i >= len(s) {
			return nil, 0, ErrIllegalAttachments
		}
		i++ // '-'
	}
	if i < len(s) && s[i] == '/' {
		start := i
		for i < len(s) && s[i] != ',' {
			i++
		}
		p.Nsp = string(s[start:i])
		if i < len(s) {
			i++ // ','
		}
	}
	if i < len(s) && isDigit(s[i]) {
		start := i
		var id uint64
		for i < len(s) && isDigit(s[i]) {
			if i-start >= maxAckIDDigits {
				return nil, 0, ErrInvalidAckID
			}
			id = id*10 + uint64(s[i]-'0')
			i++
		}
		p.HasID, p.ID = true, id
	}
	payload := s[i:]
	if len(payload) > 0 && !json.Valid(payload) {
		return nil, 0, ErrInvalidPayload
	}
	if err := setPayload(p, payload); err != nil {
		return nil, 0, err
	}
	return p, attachments, nil
}

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

func setPayload(p *Packet, payload []byte) error {
	switch p.Type {
	case Connect:
		if len(payload) > 0 && firstByte(payload) != '{' {
			return ErrInvalidPayload
		}
		p.Payload = cloneRaw(payload)
	case Disconnect:
		if len(payload) > 0 {
			return ErrInvalidPayload
		}
	case ConnectError:
		c := firstByte(payload)
		if c != '{' && c != '"' {
			return ErrInvalidPayload
		}
		p.Payload = cloneRaw(payload)
	case Event, BinaryEvent, Ack, BinaryAck:
		if firstByte(payload) != '[' {
			return ErrInvalidPayload
		}
		elems := splitArray(bytes.Clone(payload)) // one copy shared by all args
		if p.Type == Event || p.Type == BinaryEvent {
			if len(elems) == 0 {
				return ErrInvalidPayload
			}
			switch c := firstByte(elems[0]); {
			case c == '"':
				name, ok := Unquote(elems[0])
				if !ok {
					return ErrInvalidPayload
				}
				if IsReservedEvent(name) {
					return fmt.Errorf("%w: reserved event name %q", ErrInvalidPayload, name)
				}
			case c == '-' || isDigit(c):
			default:
				return ErrInvalidPayload
			}
		}
		p.Args = make([]any, len(elems))
		for i, e := range elems {
			p.Args[i] = json.RawMessage(e)
		}
	}
	return nil
}

func cloneRaw(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return append(json.RawMessage(nil), b...)
}

// splitArray splits a valid JSON array into its top-level elements
// (whitespace around elements trimmed), sub-slices of b with their capacity
// capped so that appending to one never overwrites the next.
func splitArray(b []byte) [][]byte {
	b = bytes.TrimSpace(b)
	if len(b) < 2 {
		return nil
	}
	inner := b[1 : len(b)-1]
	var out [][]byte
	depth, start := 0, 0
	inStr, esc := false, false
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 0 {
				e := bytes.TrimSpace(inner[start:i])
				out = append(out, e[:len(e):len(e)])
				start = i + 1
			}
		}
	}
	if last := bytes.TrimSpace(inner[start:]); len(last) > 0 || len(out) > 0 {
		out = append(out, last[:len(last):len(last)])
	}
	return out
}

// reconstruct replaces placeholders in p.Args with attachments.
func reconstruct(p *Packet, bufs [][]byte) error {
	for i, a := range p.Args {
		raw, ok := a.(json.RawMessage)
		if !ok || !bytes.Contains(raw, []byte(`"_placeholder"`)) {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return ErrInvalidPayload
		}
		nv, err := substitute(v, bufs)
		if err != nil {
			return err
		}
		p.Args[i] = nv
	}
	return nil
}

func substitute(v any, bufs [][]byte) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if ph, ok := x["_placeholder"].(bool); ok && ph {
			num, ok := x["num"].(json.Number)
			if !ok {
				return nil, ErrIllegalAttachments
			}
			n, err := num.Int64()
			if err != nil || n < 0 || n >= int64(len(bufs)) {
				return nil, ErrIllegalAttachments
			}
			return bufs[n], nil
		}
		for k, e := range x {
			ne, err := substitute(e, bufs)
			if err != nil {
				return nil, err
			}
			x[k] = ne
		}
	case []any:
		for i, e := range x {
			ne, err := substitute(e, bufs)
			if err != nil {
				return nil, err
			}
			x[i] = ne
		}
	}
	return v, nil
}

// Unquote decodes a JSON string literal; ok is false when raw is not one.
// Strings without escapes take a fast path.
func Unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	simple := true
	for _, c := range inner {
		if c == '\\' || c == '"' || c < 0x20 {
			simple = false
			break
		}
	}
	if simple && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
