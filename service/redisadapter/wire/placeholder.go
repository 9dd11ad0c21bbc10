package wire

// Deconstruct returns the Socket.IO wire form of v: JSON text in which every
// Binary value is replaced by {"_placeholder":true,"num":i}, and the blobs in
// order (nil when there are none) — what socket.io-parser sends a client.
func (v Value) Deconstruct() ([]byte, [][]byte) {
	var atts [][]byte
	if !v.HasBinary() {
		return AppendJSON(nil, v), nil
	}
	v = deconstruct(v, &atts)
	return AppendJSON(nil, v), atts
}

func deconstruct(v Value, atts *[][]byte) Value {
	switch v.kind {
	case Binary:
		n := len(*atts)
		*atts = append(*atts, v.bin)
		return MapValue(M("_placeholder", BoolValue(true)), M("num", IntValue(int64(n))))
	case Array:
		out := make([]Value, len(v.elems))
		for i, e := range v.elems {
			out[i] = deconstruct(e, atts)
		}
		return ArrayValue(out...)
	case Map:
		out := make([]Member, len(v.members))
		for i, m := range v.members {
			out[i] = M(m.Key, deconstruct(m.Val, atts))
		}
		return MapValue(out...)
	}
	return v
}

// Reconstruct parses Socket.IO wire JSON and puts the attachments back in
// place of their placeholders. A placeholder whose num is out of range is an
// error, as in socket.io-parser.
func Reconstruct(js []byte, atts [][]byte) (Value, error) {
	v, err := ParseJSON(js)
	if err != nil {
		return Value{}, err
	}
	if len(atts) == 0 {
		return v, nil
	}
	return reconstruct(v, atts)
}

func reconstruct(v Value, atts [][]byte) (Value, error) {
	switch v.kind {
	case Array:
		out := make([]Value, len(v.elems))
		for i, e := range v.elems {
			r, err := reconstruct(e, atts)
			if err != nil {
				return Value{}, err
			}
			out[i] = r
		}
		return ArrayValue(out...), nil
	case Map:
		if ph, ok := v.Get("_placeholder").Bool(); ok && ph {
			num, ok := v.Get("num").Int()
			if !ok || num < 0 || num >= int64(len(atts)) {
				return Value{}, malformed("illegal attachments")
			}
			return BinaryValue(atts[num]), nil
		}
		out := make([]Member, len(v.members))
		for i, m := range v.members {
			r, err := reconstruct(m.Val, atts)
			if err != nil {
				return Value{}, err
			}
			out[i] = M(m.Key, r)
		}
		return MapValue(out...), nil
	}
	return v, nil
}
