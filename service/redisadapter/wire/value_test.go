package wire

import (
	"bytes"
	"encoding/hex"
	"math"
	"strconv"
	"testing"
)

func TestMsgpackLikeNotepack(t *testing.T) {
	t.Parallel()
	// expected bytes computed by notepack.io 3.0.1 encode()
	for _, tc := range []struct {
		name string
		v    Value
		hex  string
	}{
		{"fixint", IntValue(127), "7f"},
		{"uint8", IntValue(128), "cc80"},
		{"uint16", IntValue(65535), "cdffff"},
		{"uint32", IntValue(65536), "ce00010000"},
		{"uint64", IntValue(1 << 32), "cf0000000100000000"},
		{"negfix", IntValue(-32), "e0"},
		{"int8", IntValue(-33), "d0df"},
		{"int16", IntValue(-129), "d1ff7f"},
		{"int32", IntValue(-32769), "d2ffff7fff"},
		{"int64", IntValue(-1 << 32), "d3ffffffff00000000"},
		{"float", FloatValue(1.5), "cb3ff8000000000000"},
		{"integral float is int", FloatValue(3), "03"},
		{"str31", StringValue(string(bytes.Repeat([]byte("a"), 31))), "bf" + hex.EncodeToString(bytes.Repeat([]byte("a"), 31))},
		{"str8", StringValue(string(bytes.Repeat([]byte("a"), 32))), "d920" + hex.EncodeToString(bytes.Repeat([]byte("a"), 32))},
		{"bin", BinaryValue([]byte{1}), "c40101"},
		{"undefined member dropped", MapValue(M("a", Value{}), M("b", NullValue())), "81a162c0"},
		{"undefined in array is nil", ArrayValue(Value{}), "91c0"},
	} {
		if got := hex.EncodeToString(EncodeMsgpack(tc.v)); got != tc.hex {
			t.Errorf("%s: got %s want %s", tc.name, got, tc.hex)
		}
	}
}

func TestJSONLikeJavaScript(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    Value
		want string
	}{
		{FloatValue(1e21), "1e+21"},
		{FloatValue(1.5e-7), "1.5e-7"},
		{FloatValue(0.000001), "0.000001"},
		{FloatValue(123456789012345680000), "123456789012345680000"},
		{FloatValue(math.NaN()), "null"},
		{FloatValue(math.Inf(-1)), "null"},
		{StringValue("a\"\\\n\u0001<>&\u2028é"), `"a\"\\\n\u0001<>&` + "\u2028é\""},
		{MapValue(M("x", Value{}), M("y", IntValue(1))), `{"y":1}`},
	} {
		if got := string(AppendJSON(nil, tc.v)); got != tc.want {
			t.Errorf("got %s want %s", got, tc.want)
		}
	}
	v, err := ParseJSON([]byte(` {"b":1,"a":[1.0,2e3,-0.5,"\ud83d\ude00"],"b":2} `))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(AppendJSON(nil, v)); got != `{"b":2,"a":[1,2000,-0.5,"😀"]}` {
		t.Errorf("parsed = %s", got)
	}
	for _, bad := range []string{"", "{", `{"a"}`, "[1,]", "01", "1.", `"\x"`, "nul", `{"a":1}x`, "\"\x01\""} {
		if _, err := ParseJSON([]byte(bad)); err == nil {
			t.Errorf("ParseJSON(%q) succeeded", bad)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	t.Parallel()
	v := ArrayValue(StringValue("ev"), BinaryValue([]byte{1, 2}), MapValue(M("x", BinaryValue([]byte{3}))))
	js, atts := v.Deconstruct()
	if string(js) != `["ev",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]` || len(atts) != 2 {
		t.Fatalf("deconstruct = %s %v", js, atts)
	}
	back, err := Reconstruct(js, atts)
	if err != nil || !back.Equal(v) {
		t.Fatalf("reconstruct = %v, %v", back, err)
	}
	if _, err := Reconstruct([]byte(`[{"_placeholder":true,"num":5}]`), atts); err == nil {
		t.Error("out-of-range placeholder accepted")
	}
}

// TestJSONManyKeys: duplicate-key handling stays linear and correct for
// large objects (a client controls these payloads).
func TestJSONManyKeys(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString("{")
	const n = 50000
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strconv.Itoa(i) + `":` + strconv.Itoa(i))
	}
	b.WriteString(`,"k7":"last"}`)
	v, err := ParseJSON(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if v.Len() != n {
		t.Fatalf("%d members, want %d", v.Len(), n)
	}
	if s, _ := v.Members()[7].Val.Str(); s != "last" || v.Members()[7].Key != "k7" {
		t.Errorf("duplicate key: member 7 = %v", v.Members()[7])
	}
}
