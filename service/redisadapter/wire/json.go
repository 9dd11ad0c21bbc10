package wire

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/hubkit/hubkit/service/socketio/parser"
)

// AppendJSON appends v as JavaScript's JSON.stringify would write it: no
// spaces, keys in order, Undefined members dropped (null inside arrays),
// NaN/Infinity as null, numbers in JS notation, only the escapes JS uses.
// Binary values are written as Node's Buffer.toJSON object.
func AppendJSON(dst []byte, v Value) []byte {
	switch v.kind {
	case Undefined, Null:
		return append(dst, "null"...)
	case Bool:
		if v.b {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case Int, Uint, Float:
		return appendJSNumber(dst, v)
	case String:
		return parser.AppendString(dst, v.s)
	case Binary:
		return AppendJSON(dst, v.bufferJSON())
	case Array:
		dst = append(dst, '[')
		for i, e := range v.elems {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSON(dst, e)
		}
		return append(dst, ']')
	case Map:
		dst = append(dst, '{')
		first := true
		for _, m := range v.members {
			if m.Val.kind == Undefined {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = parser.AppendString(dst, m.Key)
			dst = append(dst, ':')
			dst = AppendJSON(dst, m.Val)
		}
		return append(dst, '}')
	}
	return dst
}

// appendJSNumber writes a number like JavaScript's Number.prototype.toString.
func appendJSNumber(dst []byte, v Value) []byte {
	switch v.kind {
	case Int:
		return strconv.AppendInt(dst, v.i, 10)
	case Uint:
		return strconv.AppendUint(dst, v.u, 10)
	}
	f := v.f
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == 0 {
		return append(dst, '0')
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1.5e-07, 1e+21
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	exp = strings.TrimLeft(exp[1:], "0")
	dst = append(dst, mant...)
	dst = append(dst, 'e', sign)
	return append(dst, exp...)
}

// ParseJSON parses one JSON text into a Value, keeping key order. Numbers
// follow JavaScript: integral values become Int, others Float.
func ParseJSON(b []byte) (Value, error) {
	p := jsonParser{b: b}
	p.skipWS()
	v, err := p.value(0)
	if err != nil {
		return Value{}, err
	}
	p.skipWS()
	if p.i != len(p.b) {
		return Value{}, malformed("json: trailing data at offset %d", p.i)
	}
	return v, nil
}

type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) skipWS() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) errf(format string, args ...any) error {
	return malformed("json: offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

// afterItem consumes what follows an object member or an array element:
// ',' (more to come) or closer (done); in names the container in errors.
func (p *jsonParser) afterItem(closer byte, in string) (done bool, err error) {
	p.skipWS()
	if p.i >= len(p.b) {
		return false, p.errf("unexpected end in %s", in)
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return false, nil
	case closer:
		p.i++
		return true, nil
	}
	return false, p.errf("expected ',' or '%c'", closer)
}

func (p *jsonParser) literal(word string, v Value) (Value, error) {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return Value{}, p.errf("invalid literal")
	}
	p.i += len(word)
	return v, nil
}

func (p *jsonParser) value(depth int) (Value, error) {
	if depth > maxDepth {
		return Value{}, p.errf("nesting deeper than %d", maxDepth)
	}
	if p.i >= len(p.b) {
		return Value{}, p.errf("unexpected end")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		p.i++
		var members []Member
		var index map[string]int // key → position, once the object is large
		p.skipWS()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return MapValue(), nil
		}
		for {
			p.skipWS()
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return Value{}, p.errf("expected key")
			}
			key, err := p.str()
			if err != nil {
				return Value{}, err
			}
			p.skipWS()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return Value{}, p.errf("expected ':'")
			}
			p.i++
			p.skipWS()
			val, err := p.value(depth + 1)
			if err != nil {
				return Value{}, err
			}
			members, index = setMember(members, index, key, val)
			if done, err := p.afterItem('}', "object"); err != nil || done {
				return MapValue(members...), err
			}
		}
	case c == '[':
		p.i++
		elems := make([]Value, 0, 4)
		p.skipWS()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return ArrayValue(elems...), nil
		}
		for {
			p.skipWS()
			v, err := p.value(depth + 1)
			if err != nil {
				return Value{}, err
			}
			elems = append(elems, v)
			if done, err := p.afterItem(']', "array"); err != nil || done {
				return ArrayValue(elems...), err
			}
		}
	case c == '"':
		s, err := p.str()
		if err != nil {
			return Value{}, err
		}
		return StringValue(s), nil
	case c == 't':
		return p.literal("true", BoolValue(true))
	case c == 'f':
		return p.literal("false", BoolValue(false))
	case c == 'n':
		return p.literal("null", NullValue())
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return Value{}, p.errf("unexpected character %q", p.b[p.i])
}

// setMember mirrors JavaScript: a repeated key keeps its first position and
// takes the last value. Small objects are scanned; from 16 keys on an index
// keeps parsing linear (a hostile object with many keys must not cost
// quadratic time).
func setMember(members []Member, index map[string]int, key string, val Value) ([]Member, map[string]int) {
	if index != nil {
		if i, ok := index[key]; ok {
			members[i].Val = val
			return members, index
		}
		index[key] = len(members)
		return append(members, M(key, val)), index
	}
	for i := range members {
		if members[i].Key == key {
			members[i].Val = val
			return members, nil
		}
	}
	if members == nil {
		members = make([]Member, 0, 4)
	}
	members = append(members, M(key, val))
	if len(members) >= 16 {
		index = make(map[string]int, 2*len(members))
		for i, m := range members {
			index[m.Key] = i
		}
	}
	return members, index
}

func (p *jsonParser) number() (Value, error) {
	start := p.i
	isInt := true
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return Value{}, p.errf("invalid number")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		isInt = false
		if digits() == 0 {
			return Value{}, p.errf("invalid number")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		isInt = false
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return Value{}, p.errf("invalid number")
		}
	}
	text := string(p.b[start:p.i])
	if isInt {
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return IntValue(i), nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !math.IsInf(f, 0) {
		return Value{}, p.errf("invalid number")
	}
	return FloatValue(f), nil
}

func (p *jsonParser) str() (string, error) {
	p.i++ // opening quote
	start := p.i
	// fast path: no escapes
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := string(p.b[start:p.i])
			p.i++
			if !utf8.ValidString(s) {
				s = strings.ToValidUTF8(s, "\ufffd")
			}
			return s, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", p.errf("control character in string")
		}
		p.i++
	}
	buf := append([]byte(nil), p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			s := string(buf)
			if !utf8.ValidString(s) {
				s = strings.ToValidUTF8(s, "\ufffd")
			}
			return s, nil
		case c < 0x20:
			return "", p.errf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.b) {
			break
		}
		e := p.b[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				if r2, ok := p.peekLowSurrogate(); ok {
					r = utf16.DecodeRune(r, r2)
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.errf("invalid escape")
		}
	}
	return "", p.errf("unterminated string")
}

func (p *jsonParser) hex4() (rune, bool) {
	if len(p.b)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

func (p *jsonParser) peekLowSurrogate() (rune, bool) {
	if len(p.b)-p.i < 6 || p.b[p.i] != '\\' || p.b[p.i+1] != 'u' {
		return 0, false
	}
	save := p.i
	p.i += 2
	r, ok := p.hex4()
	if !ok || r < 0xdc00 || r > 0xdfff {
		p.i = save
		return 0, false
	}
	return r, true
}
