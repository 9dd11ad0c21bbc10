package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func TestEncode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		p      Packet
		text   string
		binary [][]byte
	}{
		{"connect main", Packet{Type: Connect}, "0", nil},
		{"connect auth", Packet{Type: Connect, Nsp: "/admin", Payload: json.RawMessage(`{"token":"x"}`)}, `0/admin,{"token":"x"}`, nil},
		{"connect ack", Packet{Type: Connect, Payload: json.RawMessage(`{"sid":"abc"}`)}, `0{"sid":"abc"}`, nil},
		{"disconnect nsp", Packet{Type: Disconnect, Nsp: "/admin"}, `1/admin,`, nil},
		{"event", Packet{Type: Event, Args: []any{"hello", 1}}, `2["hello",1]`, nil},
		{"event raw keeps bytes", Packet{Type: Event, Args: []any{"e", json.RawMessage(`{"b":1, "a":2}`)}}, `2["e",{"b":1, "a":2}]`, nil},
		{"event ack nsp", Packet{Type: Event, Nsp: "/admin", HasID: true, ID: 456, Args: []any{"project:delete", 123}}, `2/admin,456["project:delete",123]`, nil},
		{"ack", Packet{Type: Ack, Nsp: "/admin", HasID: true, ID: 456, Args: []any{}}, `3/admin,456[]`, nil},
		{"connect error", Packet{Type: ConnectError, Nsp: "/admin", Payload: json.RawMessage(`{"message":"Not authorized"}`)}, `4/admin,{"message":"Not authorized"}`, nil},
		{"binary event", Packet{Type: Event, Args: []any{"hello", []byte{1, 2, 3}}}, `51-["hello",{"_placeholder":true,"num":0}]`, [][]byte{{1, 2, 3}}},
		{"binary ack", Packet{Type: Ack, Nsp: "/admin", HasID: true, ID: 456, Args: []any{[]byte{3}}}, `61-/admin,456[{"_placeholder":true,"num":0}]`, [][]byte{{3}}},
		{"nested binary", Packet{Type: Event, Args: []any{"e", map[string]any{"f": []byte{9}, "a": []any{[]byte{8}}}}}, `52-["e",{"a":[{"_placeholder":true,"num":0}],"f":{"_placeholder":true,"num":1}}]`, [][]byte{{8}, {9}}},
		{"string escapes like JSON.stringify", Packet{Type: Event, Args: []any{"e", "<a&b>\"\\\n\u2028é"}}, "2[\"e\",\"<a&b>\\\"\\\\\\n\u2028é\"]", nil},
		{"struct arg", Packet{Type: Event, Args: []any{"e", struct {
			A string `json:"a"`
		}{"<x>"}}}, `2["e",{"a":"<x>"}]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			frames, err := Encode(&tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(frames[0].Data); got != tt.text || frames[0].Binary {
				t.Fatalf("text = %q, want %q", got, tt.text)
			}
			if len(frames)-1 != len(tt.binary) {
				t.Fatalf("%d attachments, want %d", len(frames)-1, len(tt.binary))
			}
			for i, b := range tt.binary {
				if !frames[i+1].Binary || !bytes.Equal(frames[i+1].Data, b) {
					t.Fatalf("attachment %d = %v", i, frames[i+1])
				}
			}
		})
	}
}

func TestDecodeValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		frames []Frame
		typ    Type
		nsp    string
		id     int64 // -1: none
		args   []string
		bins   map[int][]byte
		payld  string
	}{
		{"connect", []Frame{{Data: []byte("0")}}, Connect, "/", -1, nil, nil, ""},
		{"connect nsp no comma", []Frame{{Data: []byte("0/custom")}}, Connect, "/custom", -1, nil, nil, ""},
		{"connect nsp comma", []Frame{{Data: []byte("0/custom,")}}, Connect, "/custom", -1, nil, nil, ""},
		{"connect auth exact bytes", []Frame{{Data: []byte(`0/a,{"z":1,  "a":[2]}`)}}, Connect, "/a", -1, nil, nil, `{"z":1,  "a":[2]}`},
		{"event", []Frame{{Data: []byte(`2["hello",{"b":1,"a":2}, "x"]`)}}, Event, "/", -1, []string{`"hello"`, `{"b":1,"a":2}`, `"x"`}, nil, ""},
		{"event numeric name", []Frame{{Data: []byte(`2[1,2]`)}}, Event, "/", -1, []string{`1`, `2`}, nil, ""},
		{"event ack id", []Frame{{Data: []byte(`2/admin,456["x"]`)}}, Event, "/admin", 456, []string{`"x"`}, nil, ""},
		{"ack empty", []Frame{{Data: []byte(`3/admin,456[]`)}}, Ack, "/admin", 456, []string{}, nil, ""},
		{"disconnect", []Frame{{Data: []byte(`1/admin,`)}}, Disconnect, "/admin", -1, nil, nil, ""},
		{"binary event", []Frame{{Data: []byte(`51-["hello",{"_placeholder":true,"num":0}]`)}, {Data: []byte{1, 2}, Binary: true}}, BinaryEvent, "/", -1, []string{`"hello"`, ""}, map[int][]byte{1: {1, 2}}, ""},
		{"binary ack", []Frame{{Data: []byte(`61-/admin,456[{"_placeholder":true,"num":0}]`)}, {Data: []byte{3}, Binary: true}}, BinaryAck, "/admin", 456, []string{""}, map[int][]byte{0: {3}}, ""},
		{"binary zero attachments", []Frame{{Data: []byte(`50-["x"]`)}}, BinaryEvent, "/", -1, []string{`"x"`}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := NewDecoder(DecoderConfig{})
			var p *Packet
			for i, f := range tt.frames {
				var err error
				p, err = d.Add(f)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if i < len(tt.frames)-1 && p != nil {
					t.Fatalf("packet complete after frame %d", i)
				}
			}
			if p == nil {
				t.Fatal("no packet")
			}
			if p.Type != tt.typ || p.Namespace() != tt.nsp {
				t.Fatalf("got type %v nsp %q", p.Type, p.Nsp)
			}
			if (tt.id >= 0) != p.HasID || (p.HasID && int64(p.ID) != tt.id) {
				t.Fatalf("id = %v %d", p.HasID, p.ID)
			}
			if string(p.Payload) != tt.payld {
				t.Fatalf("payload = %q", p.Payload)
			}
			if tt.args != nil && len(p.Args) != len(tt.args) {
				t.Fatalf("args = %v", p.Args)
			}
			for i, want := range tt.args {
				if b, ok := tt.bins[i]; ok {
					if got, _ := p.Args[i].([]byte); !bytes.Equal(got, b) {
						t.Fatalf("arg %d = %v", i, p.Args[i])
					}
					continue
				}
				if got := string(p.Args[i].(json.RawMessage)); got != want {
					t.Fatalf("arg %d = %s, want %s", i, got, want)
				}
			}
		})
	}
}

func TestDecodeNestedBinary(t *testing.T) {
	t.Parallel()
	d := NewDecoder(DecoderConfig{})
	if p, err := d.Add(Frame{Data: []byte(`52-["e",{"a":[{"_placeholder":true,"num":1}],"f":{"_placeholder":true,"num":0}}]`)}); p != nil || err != nil {
		t.Fatal(p, err)
	}
	if p, err := d.Add(Frame{Data: []byte{9}, Binary: true}); p != nil || err != nil {
		t.Fatal(p, err)
	}
	p, err := d.Add(Frame{Data: []byte{8}, Binary: true})
	if err != nil || p == nil {
		t.Fatal(p, err)
	}
	m := p.Args[1].(map[string]any)
	if !bytes.Equal(m["f"].([]byte), []byte{9}) || !bytes.Equal(m["a"].([]any)[0].([]byte), []byte{8}) {
		t.Fatalf("got %#v", m)
	}
}

func TestDecodeInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		frames []Frame
		want   error
	}{
		{"empty", []Frame{{Data: nil}}, ErrEmptyPacket},
		{"unknown type", []Frame{{Data: []byte("7")}}, ErrUnknownType},
		{"unknown type letter", []Frame{{Data: []byte("a")}}, ErrUnknownType},
		{"bad attachments", []Frame{{Data: []byte(`5x-["a"]`)}}, ErrIllegalAttachments},
		{"missing dash", []Frame{{Data: []byte(`51["a"]`)}}, ErrIllegalAttachments},
		{"too many attachments", []Frame{{Data: []byte(`511-["a"]`)}}, ErrTooManyAttachments},
		{"huge ack id", []Frame{{Data: []byte(`21234567890123456789["a"]`)}}, ErrInvalidAckID},
		{"bad json", []Frame{{Data: []byte(`2["a"`)}}, ErrInvalidPayload},
		{"event not array", []Frame{{Data: []byte(`2{"a":1}`)}}, ErrInvalidPayload},
		{"event empty array", []Frame{{Data: []byte(`2[]`)}}, ErrInvalidPayload},
		{"event object name", []Frame{{Data: []byte(`2[{}]`)}}, ErrInvalidPayload},
		{"event reserved", []Frame{{Data: []byte(`2["disconnect"]`)}}, ErrInvalidPayload},
		{"event reserved newListener", []Frame{{Data: []byte(`2["newListener"]`)}}, ErrInvalidPayload},
		{"event missing payload", []Frame{{Data: []byte(`2`)}}, ErrInvalidPayload},
		{"ack not array", []Frame{{Data: []byte(`31"a"`)}}, ErrInvalidPayload},
		{"connect array", []Frame{{Data: []byte(`0[1]`)}}, ErrInvalidPayload},
		{"disconnect payload", []Frame{{Data: []byte(`1{}`)}}, ErrInvalidPayload},
		{"connect error number", []Frame{{Data: []byte(`41`)}}, ErrInvalidPayload},
		{"binary when idle", []Frame{{Data: []byte{1}, Binary: true}}, ErrUnexpectedBinary},
		{"text while reconstructing", []Frame{{Data: []byte(`51-["a",{"_placeholder":true,"num":0}]`)}, {Data: []byte(`2["a"]`)}}, ErrUnexpectedText},
		{"placeholder out of range", []Frame{{Data: []byte(`51-["a",{"_placeholder":true,"num":3}]`)}, {Data: []byte{1}, Binary: true}}, ErrIllegalAttachments},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := NewDecoder(DecoderConfig{})
			var err error
			for _, f := range tt.frames {
				if _, err = d.Add(f); err != nil {
					break
				}
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	in := &Packet{Type: Event, Nsp: "/chat", HasID: true, ID: 7, Args: []any{"msg", json.RawMessage(`{"x":[1,2,{"y":"z"}]}`), []byte("bin"), "s,t]r"}}
	frames, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(DecoderConfig{})
	var out *Packet
	for _, f := range frames {
		if out, err = d.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	if out == nil || out.Type != BinaryEvent || out.Nsp != "/chat" || out.ID != 7 || len(out.Args) != 4 {
		t.Fatalf("got %+v", out)
	}
	if string(out.Args[1].(json.RawMessage)) != `{"x":[1,2,{"y":"z"}]}` || string(out.Args[2].([]byte)) != "bin" || string(out.Args[3].(json.RawMessage)) != `"s,t]r"` {
		t.Fatalf("args %v", out.Args)
	}
}

func TestDecoderAttachmentLimits(t *testing.T) {
	t.Parallel()
	head := Frame{Data: []byte(`52-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)}
	tests := []struct {
		name string
		cfg  DecoderConfig
		want error
	}{
		{"within limits", DecoderConfig{MaxAttachmentSize: 4, MaxTotalAttachmentSize: 8}, nil},
		{"one too large", DecoderConfig{MaxAttachmentSize: 3}, ErrAttachmentTooLarge},
		{"total too large", DecoderConfig{MaxTotalAttachmentSize: 7}, ErrAttachmentTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := NewDecoder(tt.cfg)
			if _, err := d.Add(head); err != nil {
				t.Fatal(err)
			}
			_, err := d.Add(Frame{Data: []byte("abcd"), Binary: true})
			if err == nil {
				_, err = d.Add(Frame{Data: []byte("efgh"), Binary: true})
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if tt.want != nil && d.Pending() {
				t.Fatal("decoder still pending after an error")
			}
		})
	}
}

func TestUnquote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want string
		ok   bool
	}{
		{`"plain"`, "plain", true},
		{`""`, "", true},
		{`"é✓"`, "é✓", true},
		{`"a\"b\\c\n\u00e9"`, "a\"b\\c\né", true},
		{"\"bad\xffutf8\"", "bad\ufffdutf8", true},
		{`"unterminated`, "", false},
		{`12`, "", false},
		{`"`, "", false},
		{`"a"b"`, "", false},
	}
	for _, tt := range tests {
		got, ok := Unquote([]byte(tt.raw))
		if ok != tt.ok || got != tt.want {
			t.Errorf("Unquote(%q) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}
