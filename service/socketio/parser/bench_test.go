package parser

import (
	"encoding/json"
	"testing"
)

func BenchmarkEncodeEvent(b *testing.B) {
	p := &Packet{Type: Event, Nsp: "/chat", Args: []any{"message", json.RawMessage(`{"room":"lobby","text":"hello world","n":42}`)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeBinaryEvent(b *testing.B) {
	p := &Packet{Type: Event, Args: []any{"file", "name.bin", make([]byte, 1024)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	frame := Frame{Data: []byte(`2/chat,12["message",{"room":"lobby","text":"hello world","n":42}]`)}
	d := NewDecoder(DecoderConfig{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Add(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinaryEvent(b *testing.B) {
	head := Frame{Data: []byte(`51-["file","name.bin",{"_placeholder":true,"num":0}]`)}
	att := Frame{Data: make([]byte, 1024), Binary: true}
	d := NewDecoder(DecoderConfig{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Add(head); err != nil {
			b.Fatal(err)
		}
		if p, err := d.Add(att); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}
