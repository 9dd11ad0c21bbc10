package wire

import (
	"bytes"
	"testing"
)

// seeds returns every captured vector, for fuzz corpora.
func seeds(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.raw)
		if len(v.raw) > 4 {
			f.Add(v.raw[:len(v.raw)/2]) // split frames
		}
	}
}

// FuzzDecode feeds arbitrary bytes to every decoder: none may panic, and
// whatever decodes must re-encode to something that decodes to the same value.
func FuzzDecode(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = DecodeBroadcast(b)
		_, _ = DecodeRequest(b)
		_, _ = DecodeResponse(b)
		if m, err := DecodeCluster(b); err == nil {
			_ = m.Encode()
		}
		if v, err := DecodeMsgpack(b); err == nil {
			enc := EncodeMsgpack(v)
			v2, err := DecodeMsgpack(enc)
			if err != nil {
				t.Fatalf("re-encoded msgpack does not decode: %v", err)
			}
			if !bytes.Equal(EncodeMsgpack(v2), enc) {
				t.Fatal("msgpack encoding is not stable")
			}
			js, atts := v.Deconstruct()
			if _, err := Reconstruct(js, atts); err != nil {
				t.Fatalf("deconstructed value does not reconstruct: %v", err)
			}
		}
		if v, err := ParseJSON(b); err == nil {
			out := AppendJSON(nil, v)
			v2, err := ParseJSON(out)
			if err != nil {
				t.Fatalf("re-encoded JSON %q does not parse: %v", out, err)
			}
			if !bytes.Equal(AppendJSON(nil, v2), out) {
				t.Fatal("JSON encoding is not stable")
			}
		}
	})
}
