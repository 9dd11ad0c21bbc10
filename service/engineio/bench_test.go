package engineio

import (
	"strings"
	"testing"
)

// Run: go test -run '^$' -bench . -benchmem ./service/engineio/

var (
	benchText    = []byte(`42["message",{"room":"lobby","text":"` + strings.Repeat("x", 100) + `"}]`)
	benchBinary  = []byte(strings.Repeat("\x01\x02\x03\x04", 256))
	benchPackets = []packet{
		{typ: packetMessage, data: benchText},
		{typ: packetMessage, data: benchText},
		{typ: packetMessage, data: benchBinary, binary: true},
		{typ: packetPing},
	}
)

func BenchmarkEncodePacketText(b *testing.B) {
	p := packet{typ: packetMessage, data: benchText}
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(benchText)))
	b.ReportAllocs()
	for b.Loop() {
		buf = appendPacket(buf[:0], p)
	}
}

func BenchmarkEncodePacketBinary(b *testing.B) {
	p := packet{typ: packetMessage, data: benchBinary, binary: true}
	buf := make([]byte, 0, 2048)
	b.SetBytes(int64(len(benchBinary)))
	b.ReportAllocs()
	for b.Loop() {
		buf = appendPacket(buf[:0], p)
	}
}

func BenchmarkDecodePacketText(b *testing.B) {
	frame := appendPacket(nil, packet{typ: packetMessage, data: benchText})
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodePacket(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePacketBinary(b *testing.B) {
	frame := appendPacket(nil, packet{typ: packetMessage, data: benchBinary, binary: true})
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodePacket(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodePayload(b *testing.B) {
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendPayload(buf[:0], benchPackets)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodePayload(b *testing.B) {
	payload := appendPayload(nil, benchPackets)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := decodePayload(payload, func(packet) bool { n++; return true }); err != nil || n != len(benchPackets) {
			b.Fatal(err, n)
		}
	}
}

func BenchmarkDecodePayloadText(b *testing.B) {
	payload := appendPayload(nil, []packet{benchPackets[0], benchPackets[1], benchPackets[3]})
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if err := decodePayload(payload, func(packet) bool { return true }); err != nil {
			b.Fatal(err)
		}
	}
}
