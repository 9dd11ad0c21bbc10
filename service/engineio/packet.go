package engineio

import (
	"bytes"
	"encoding/base64"
	"errors"
)

// Engine.IO v4 packet types, as their wire characters.
const (
	packetOpen    byte = '0'
	packetClose   byte = '1'
	packetPing    byte = '2'
	packetPong    byte = '3'
	packetMessage byte = '4'
	packetUpgrade byte = '5'
	packetNoop    byte = '6'
)

// recordSeparator joins packets in a polling payload.
const recordSeparator byte = 0x1e

// errParse is returned by the decoders for input that is not an Engine.IO
// packet; the session is then closed with ReasonParseError.
var errParse = errors.New("engineio: parse error")

// packet is one Engine.IO packet. For a message, binary tells whether data is
// raw bytes (websocket binary frame, polling "b"+base64).
type packet struct {
	typ    byte
	data   []byte
	binary bool
}

// decodePacket decodes one text-encoded packet: a websocket text frame or one
// segment of a polling payload. The returned data aliases b (capacity-capped,
// so appending to it never overwrites what follows); only a base64 binary
// message allocates.
func decodePacket(b []byte) (packet, error) {
	if len(b) == 0 {
		return packet{}, errParse
	}
	t := b[0]
	if t == 'b' {
		data, err := decodeBase64(b[1:])
		if err != nil {
			return packet{}, errParse
		}
		return packet{typ: packetMessage, data: data, binary: true}, nil
	}
	if t < packetOpen || t > packetNoop {
		return packet{}, errParse
	}
	return packet{typ: t, data: b[1:len(b):len(b)]}, nil
}

// decodeBase64 accepts padded or unpadded standard base64, like the base64
// codecs of the JS clients produce.
func decodeBase64(s []byte) ([]byte, error) {
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	dst := make([]byte, enc.DecodedLen(len(s)))
	n, err := enc.Decode(dst, s)
	if err != nil {
		return nil, err
	}
	return dst[:n:n], nil
}

// decodePayload splits a polling payload on the record separator and calls fn
// for every packet in order, stopping when fn returns false. It returns
// errParse at the first undecodable packet; the packets before it have been
// passed to fn (as Node engine.io does).
func decodePayload(b []byte, fn func(packet) bool) error {
	for {
		i := bytes.IndexByte(b, recordSeparator)
		seg := b
		if i >= 0 {
			seg = b[:i]
		}
		p, err := decodePacket(seg)
		if err != nil {
			return err
		}
		if !fn(p) || i < 0 {
			return nil
		}
		b = b[i+1:]
	}
}

// appendPacket appends the text encoding of p (polling form: binary messages
// as "b"+base64).
func appendPacket(dst []byte, p packet) []byte {
	if p.binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, p.data)
	}
	dst = append(dst, p.typ)
	return append(dst, p.data...)
}

// encodedLen is the length of appendPacket's output for p.
func encodedLen(p packet) int {
	if p.binary {
		return 1 + base64.StdEncoding.EncodedLen(len(p.data))
	}
	return 1 + len(p.data)
}

// appendPayload appends the polling payload of ps: their encodings joined by
// the record separator.
func appendPayload(dst []byte, ps []packet) []byte {
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, recordSeparator)
		}
		dst = appendPacket(dst, p)
	}
	return dst
}
