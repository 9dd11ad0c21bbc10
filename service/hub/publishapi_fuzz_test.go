package hub

import (
	"strings"
	"testing"
)

// FuzzDecodePublish: any body either decodes to a valid target or yields an
// error; it never panics.
func FuzzDecodePublish(f *testing.F) {
	for _, s := range []string{
		`{"room":"r","event":"e","data":{"a":[1,2,{"b":null}]}}`,
		`{"room":"r","event":"e"}`,
		`{"room":5}`, `[]`, `{"room":"r","event":"disconnect"}`, `{"room":"r","event":"e"} x`,
		`{"room":"\u0000","event":"\ud800"}`, ``, `null`, `{"data":` + strings.Repeat("[", 100),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodePublish(body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if validateTarget(req.Room, req.Event) != nil {
			t.Fatalf("accepted invalid target %q/%q", req.Room, req.Event)
		}
	})
}
