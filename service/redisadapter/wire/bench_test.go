package wire

import "testing"

func benchBroadcast() Broadcast {
	data, _ := ParseJSON([]byte(`["msg",{"ph":1,"s":12,"r":"room-7","t":1795783041090.123,"body":"hello world, this is a chat message"}]`))
	return Broadcast{UID: "_Z2Amo", Packet: Packet{Type: 2, Data: data, NSP: "/"},
		Opts: Opts{Rooms: []string{"room-7"}, Except: []string{"4I8YVTlWllZacGFnAAAA"}, Flags: MapValue()}}
}

func BenchmarkBroadcastEncode(b *testing.B) {
	m := benchBroadcast()
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Encode()
	}
}

func BenchmarkBroadcastDecode(b *testing.B) {
	raw := benchBroadcast().Encode()
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := DecodeBroadcast(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkShardedDecode(b *testing.B) {
	m := benchBroadcast()
	raw := ClusterMessage{Type: MsgBroadcast, UID: "ca4e736a589b0aea", NSP: "/", Packet: m.Packet, Opts: m.Opts}.Encode()
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := DecodeCluster(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	v := benchBroadcast().Packet.Data
	b.ReportAllocs()
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = AppendJSON(buf[:0], v)
	}
}
