package parser

import (
	"testing"
)

// seeds are real frames as written by socket.io-client 4.8 and the
// reference server (see the socket.io-protocol README examples).
var seeds = []string{
	"0", "0/admin,", `0{"token":"123"}`, `0/admin,{"token":"123"}`,
	`40{"sid":"wZX3oN0bSVIhsaknAAAI"}`, "1/admin,",
	`2["hello",1]`, `2/admin,456["project:delete",123]`, `3/admin,456[]`,
	`4{"message":"Not authorized"}`, `51-["hello",{"_placeholder":true,"num":0}]`,
	`61-/admin,456[{"_placeholder":true,"num":0}]`, `2["message-with-ack",1,"2",{"3":[true]}]`,
}

// FuzzDecoder feeds frames whole and split at an arbitrary point (the
// second half as a binary frame when a packet is pending).
func FuzzDecoder(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s), uint8(0), []byte{1, 2, 3})
		f.Add([]byte(s), uint8(len(s)/2), []byte{})
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint8, bin []byte) {
		d := NewDecoder(DecoderConfig{MaxAttachments: 3})
		feed := func(fr Frame) {
			p, err := d.Add(fr)
			if err != nil || p == nil {
				return
			}
			// A decoded packet must re-encode.
			if _, err := Encode(p); err != nil {
				t.Fatalf("re-encode %q: %v", data, err)
			}
		}
		if int(split) > 0 && int(split) < len(data) {
			feed(Frame{Data: data[:split]})
			feed(Frame{Data: data[split:], Binary: d.Pending()})
		} else {
			feed(Frame{Data: data})
		}
		for d.Pending() {
			feed(Frame{Data: bin, Binary: true})
		}
	})
}
