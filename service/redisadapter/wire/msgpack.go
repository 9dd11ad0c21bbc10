package wire

import (
	"bytes"
	"io"
	"math"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// EncodeMsgpack encodes v the way notepack.io 3.x does: smallest integer
// forms, float64 for numbers with a fraction, str8 from 32 bytes, bin for
// buffers, map keys in order, Undefined as nil in arrays and omitted in maps.
func EncodeMsgpack(v Value) []byte {
	e := encPool.Get().(*msgpackEncoder)
	e.buf.Reset()
	e.encode(v)
	out := bytes.Clone(e.buf.Bytes())
	encPool.Put(e)
	return out
}

type msgpackEncoder struct {
	buf bytes.Buffer
	enc *msgpack.Encoder
}

var encPool = sync.Pool{New: func() any {
	e := &msgpackEncoder{}
	e.enc = msgpack.NewEncoder(&e.buf)
	return e
}}

// Writes to a bytes.Buffer cannot fail, so the encoder's errors are ignored.
func (e *msgpackEncoder) encode(v Value) {
	enc := e.enc
	switch v.kind {
	case Undefined, Null:
		_ = enc.EncodeNil()
	case Bool:
		_ = enc.EncodeBool(v.b)
	case Int:
		_ = enc.EncodeInt(v.i)
	case Uint:
		_ = enc.EncodeUint(v.u)
	case Float:
		_ = enc.EncodeFloat64(v.f)
	case String:
		_ = enc.EncodeString(v.s)
	case Binary:
		_ = enc.EncodeBytesLen(len(v.bin))
		e.buf.Write(v.bin)
	case Array:
		_ = enc.EncodeArrayLen(len(v.elems))
		for _, el := range v.elems {
			e.encode(el)
		}
	case Map:
		n := 0
		for _, m := range v.members {
			if m.Val.kind != Undefined {
				n++
			}
		}
		_ = enc.EncodeMapLen(n)
		for _, m := range v.members {
			if m.Val.kind == Undefined {
				continue
			}
			_ = enc.EncodeString(m.Key)
			e.encode(m.Val)
		}
	}
}

// DecodeMsgpack decodes one msgpack value that must span all of b.
func DecodeMsgpack(b []byte) (Value, error) {
	r := bytes.NewReader(b)
	d := msgpack.NewDecoder(r)
	v, err := decodeMsgpack(d, r, 0)
	if err != nil {
		return Value{}, err
	}
	if r.Len() != 0 {
		return Value{}, malformed("msgpack: %d trailing bytes", r.Len())
	}
	return v, nil
}

func decodeMsgpack(d *msgpack.Decoder, r *bytes.Reader, depth int) (Value, error) {
	if depth > maxDepth {
		return Value{}, malformed("msgpack: nesting deeper than %d", maxDepth)
	}
	c, err := d.PeekCode()
	if err != nil {
		return Value{}, malformed("msgpack: %v", err)
	}
	wrap := func(err error) error { return malformed("msgpack: %v", err) }
	switch {
	case c == msgpcode.Nil:
		_ = d.DecodeNil()
		return NullValue(), nil
	case c == msgpcode.True || c == msgpcode.False:
		b, err := d.DecodeBool()
		if err != nil {
			return Value{}, wrap(err)
		}
		return BoolValue(b), nil
	case msgpcode.IsFixedNum(c) || c == msgpcode.Int8 || c == msgpcode.Int16 ||
		c == msgpcode.Int32 || c == msgpcode.Int64 || c == msgpcode.Uint8 ||
		c == msgpcode.Uint16 || c == msgpcode.Uint32:
		i, err := d.DecodeInt64()
		if err != nil {
			return Value{}, wrap(err)
		}
		return IntValue(i), nil
	case c == msgpcode.Uint64:
		u, err := d.DecodeUint64()
		if err != nil {
			return Value{}, wrap(err)
		}
		return UintValue(u), nil
	case c == msgpcode.Float || c == msgpcode.Double:
		f, err := d.DecodeFloat64()
		if err != nil {
			return Value{}, wrap(err)
		}
		if c == msgpcode.Double {
			// keep float64 as float64: notepack only writes cb for non-integers,
			// and a JS peer decoding it gets the same number back.
			return Value{kind: Float, f: f}, nil
		}
		return FloatValue(f), nil
	case msgpcode.IsString(c):
		n, err := d.DecodeBytesLen()
		if err != nil {
			return Value{}, wrap(err)
		}
		if n > r.Len() {
			return Value{}, malformed("msgpack: string of %d bytes, %d left", n, r.Len())
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Value{}, wrap(err)
		}
		return StringValue(string(buf)), nil
	case msgpcode.IsBin(c):
		n, err := d.DecodeBytesLen()
		if err != nil {
			return Value{}, wrap(err)
		}
		if n > r.Len() || n < 0 {
			return Value{}, malformed("msgpack: bin of %d bytes, %d left", n, r.Len())
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Value{}, wrap(err)
		}
		return BinaryValue(buf), nil
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := d.DecodeArrayLen()
		if err != nil {
			return Value{}, wrap(err)
		}
		if n < 0 || n > r.Len() { // every element takes at least one byte
			return Value{}, malformed("msgpack: array of %d with %d bytes left", n, r.Len())
		}
		elems := make([]Value, n)
		for i := range elems {
			if elems[i], err = decodeMsgpack(d, r, depth+1); err != nil {
				return Value{}, err
			}
		}
		return ArrayValue(elems...), nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err := d.DecodeMapLen()
		if err != nil {
			return Value{}, wrap(err)
		}
		if n < 0 || 2*n > r.Len() {
			return Value{}, malformed("msgpack: map of %d with %d bytes left", n, r.Len())
		}
		members := make([]Member, 0, n)
		var index map[string]int
		for range n {
			k, err := decodeMsgpack(d, r, depth+1)
			if err != nil {
				return Value{}, err
			}
			var key string
			switch k.kind {
			case String:
				key = k.s
			case Int, Uint, Float:
				key = string(appendJSNumber(nil, k))
			default:
				return Value{}, malformed("msgpack: map key of kind %d", k.kind)
			}
			val, err := decodeMsgpack(d, r, depth+1)
			if err != nil {
				return Value{}, err
			}
			members, index = setMember(members, index, key, val)
		}
		return MapValue(members...), nil
	case msgpcode.IsExt(c):
		id, n, err := d.DecodeExtHeader()
		if err != nil {
			return Value{}, wrap(err)
		}
		if n < 0 || n > r.Len() {
			return Value{}, malformed("msgpack: ext of %d bytes, %d left", n, r.Len())
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Value{}, wrap(err)
		}
		return decodeExt(id, buf)
	}
	return Value{}, malformed("msgpack: unknown code 0x%02x", c)
}

// decodeExt handles the two extensions notepack.io understands: fixext1 type
// 0 (undefined) and the timestamp type -1, which becomes the ISO string a
// JavaScript Date serialises to.
func decodeExt(id int8, b []byte) (Value, error) {
	switch {
	case id == 0 && len(b) == 1:
		return Value{}, nil
	case id == -1:
		var sec int64
		var nsec int64
		switch len(b) {
		case 4:
			sec = int64(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
		case 8:
			hi := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
			lo := uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
			nsec = int64(hi >> 2)
			sec = int64((hi&3)<<32 | lo)
		case 12:
			nsec = int64(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
			var s uint64
			for _, x := range b[4:] {
				s = s<<8 | uint64(x)
			}
			sec = int64(s)
		default:
			return Value{}, malformed("msgpack: timestamp of %d bytes", len(b))
		}
		t := time.Unix(sec, nsec).UTC()
		ms := t.UnixMilli()
		if math.Abs(float64(ms)) > 8.64e15 {
			return NullValue(), nil // an invalid Date serialises to null
		}
		return StringValue(t.Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")), nil
	}
	return Value{}, malformed("msgpack: unsupported ext type %d", id)
}
