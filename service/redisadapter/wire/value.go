package wire

import (
	"errors"
	"fmt"
	"math"
)

// ErrMalformed is wrapped by every decoding error of this package.
var ErrMalformed = errors.New("wire: malformed message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 128

// Kind is the type of a [Value].
type Kind uint8

// The kinds of values a message can carry. They mirror what a JavaScript
// peer can put in a notepack.io or JSON message.
const (
	Undefined Kind = iota // absent; written as nil in arrays, dropped from maps
	Null
	Bool
	Int   // signed integer; JS numbers without a fraction
	Uint  // unsigned integer above MaxInt64
	Float // float64 with a fraction, or NaN/±Inf
	String
	Binary // a Node Buffer: msgpack bin, a placeholder in Socket.IO JSON
	Array
	Map // keys keep their order
)

// Member is one key/value pair of a Map value.
type Member struct {
	Key string
	Val Value
}

// Value is an immutable, ordered representation of a JavaScript value as it
// travels between adapters. The zero Value is Undefined.
type Value struct {
	kind    Kind
	b       bool
	i       int64
	u       uint64
	f       float64
	s       string
	bin     []byte
	elems   []Value
	members []Member
}

// NullValue returns null.
func NullValue() Value { return Value{kind: Null} }

// BoolValue returns true or false.
func BoolValue(b bool) Value { return Value{kind: Bool, b: b} }

// IntValue returns an integer.
func IntValue(i int64) Value { return Value{kind: Int, i: i} }

// UintValue returns an unsigned integer; values that fit int64 become Int.
func UintValue(u uint64) Value {
	if u <= math.MaxInt64 {
		return Value{kind: Int, i: int64(u)}
	}
	return Value{kind: Uint, u: u}
}

// FloatValue returns a JS number: integral finite values become Int, like
// notepack.io encodes them.
func FloatValue(f float64) Value {
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		if f >= -9.223372036854775808e18 && f < 9.223372036854775808e18 {
			return Value{kind: Int, i: int64(f)}
		}
		if f >= 0 && f < 1.8446744073709551616e19 {
			return UintValue(uint64(f))
		}
	}
	return Value{kind: Float, f: f}
}

// StringValue returns a string.
func StringValue(s string) Value { return Value{kind: String, s: s} }

// BinaryValue returns a binary blob (a Node Buffer). The slice is not copied.
func BinaryValue(b []byte) Value { return Value{kind: Binary, bin: b} }

// ArrayValue returns an array of the given elements (not copied).
func ArrayValue(elems ...Value) Value { return Value{kind: Array, elems: elems} }

// StringsValue returns an array of strings.
func StringsValue(ss []string) Value {
	elems := make([]Value, len(ss))
	for i, s := range ss {
		elems[i] = StringValue(s)
	}
	return Value{kind: Array, elems: elems}
}

// MapValue returns an object with the given members, in order (not copied).
func MapValue(members ...Member) Value { return Value{kind: Map, members: members} }

// M is shorthand for a Member.
func M(key string, v Value) Member { return Member{Key: key, Val: v} }

// Kind reports the value's kind.
func (v Value) Kind() Kind { return v.kind }

// IsUndefined reports whether v is Undefined.
func (v Value) IsUndefined() bool { return v.kind == Undefined }

// Bool returns the boolean value and whether v is a Bool.
func (v Value) Bool() (bool, bool) { return v.b, v.kind == Bool }

// Truthy reports whether v is true in the JavaScript sense (enough for flags).
func (v Value) Truthy() bool {
	switch v.kind {
	case Bool:
		return v.b
	case Int:
		return v.i != 0
	case Uint:
		return true
	case Float:
		return v.f != 0 && !math.IsNaN(v.f)
	case String:
		return v.s != ""
	case Binary, Array, Map:
		return true
	}
	return false
}

// Int returns the value as an int64 when it is an integer number.
func (v Value) Int() (int64, bool) {
	switch v.kind {
	case Int:
		return v.i, true
	case Uint:
		return 0, false
	}
	return 0, false
}

// Float returns the value as a float64 when it is a number.
func (v Value) Float() (float64, bool) {
	switch v.kind {
	case Int:
		return float64(v.i), true
	case Uint:
		return float64(v.u), true
	case Float:
		return v.f, true
	}
	return 0, false
}

// Str returns the string and whether v is a String.
func (v Value) Str() (string, bool) { return v.s, v.kind == String }

// Bytes returns the blob and whether v is Binary.
func (v Value) Bytes() ([]byte, bool) { return v.bin, v.kind == Binary }

// Elems returns the elements of an Array (nil otherwise). Do not modify.
func (v Value) Elems() []Value { return v.elems }

// Members returns the members of a Map (nil otherwise). Do not modify.
func (v Value) Members() []Member { return v.members }

// Len returns the number of elements or members.
func (v Value) Len() int {
	if v.kind == Map {
		return len(v.members)
	}
	return len(v.elems)
}

// Get returns the member named key of a Map; Undefined when absent.
func (v Value) Get(key string) Value {
	for i := range v.members {
		if v.members[i].Key == key {
			return v.members[i].Val
		}
	}
	return Value{}
}

// Strings returns an Array of strings as a slice. Numbers are formatted the
// way JavaScript would coerce them (rooms may be numbers in Node).
func (v Value) Strings() ([]string, bool) {
	if v.kind != Array {
		return nil, v.kind == Undefined || v.kind == Null
	}
	out := make([]string, 0, len(v.elems))
	for _, e := range v.elems {
		switch e.kind {
		case String:
			out = append(out, e.s)
		case Int, Uint, Float:
			out = append(out, string(appendJSNumber(nil, e)))
		default:
			return nil, false
		}
	}
	return out, true
}

// HasBinary reports whether any Binary value is nested in v.
func (v Value) HasBinary() bool {
	switch v.kind {
	case Binary:
		return true
	case Array:
		for _, e := range v.elems {
			if e.HasBinary() {
				return true
			}
		}
	case Map:
		for _, m := range v.members {
			if m.Val.HasBinary() {
				return true
			}
		}
	}
	return false
}

// Equal reports deep equality (map order matters).
func (v Value) Equal(o Value) bool {
	if v.kind != o.kind {
		return false
	}
	switch v.kind {
	case Bool:
		return v.b == o.b
	case Int:
		return v.i == o.i
	case Uint:
		return v.u == o.u
	case Float:
		return v.f == o.f || (math.IsNaN(v.f) && math.IsNaN(o.f))
	case String:
		return v.s == o.s
	case Binary:
		return string(v.bin) == string(o.bin)
	case Array:
		if len(v.elems) != len(o.elems) {
			return false
		}
		for i := range v.elems {
			if !v.elems[i].Equal(o.elems[i]) {
				return false
			}
		}
	case Map:
		if len(v.members) != len(o.members) {
			return false
		}
		for i := range v.members {
			if v.members[i].Key != o.members[i].Key || !v.members[i].Val.Equal(o.members[i].Val) {
				return false
			}
		}
	}
	return true
}

// String renders v as JSON (binary as {"type":"Buffer","data":[...]} like
// Node's Buffer.toJSON), for logs and tests.
func (v Value) String() string { return string(AppendJSON(nil, v.bufferJSON())) }

func (v Value) bufferJSON() Value {
	switch v.kind {
	case Binary:
		data := make([]Value, len(v.bin))
		for i, b := range v.bin {
			data[i] = IntValue(int64(b))
		}
		return MapValue(M("type", StringValue("Buffer")), M("data", ArrayValue(data...)))
	case Array:
		out := make([]Value, len(v.elems))
		for i, e := range v.elems {
			out[i] = e.bufferJSON()
		}
		return ArrayValue(out...)
	case Map:
		out := make([]Member, len(v.members))
		for i, m := range v.members {
			out[i] = M(m.Key, m.Val.bufferJSON())
		}
		return MapValue(out...)
	}
	return v
}
