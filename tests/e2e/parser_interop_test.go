package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hubkit/hubkit/internal/testenv"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// jsPacket is a packet as socket.io-parser sees it; binary as {"$bin":b64}.
type jsPacket struct {
	Type int             `json:"type"`
	Nsp  string          `json:"nsp"`
	ID   *uint64         `json:"id,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// toGo converts a jsPacket into a parser.Packet whose args are Go strings
// for JSON strings, []byte for top-level $bin values, and raw JSON
// (keeping bytes and key order) otherwise.
func toGo(t *testing.T, p jsPacket) *parser.Packet {
	t.Helper()
	gp := &parser.Packet{Type: parser.Type(p.Type), Nsp: p.Nsp}
	if p.ID != nil {
		gp.HasID, gp.ID = true, *p.ID
	}
	switch gp.Type {
	case parser.Event, parser.Ack, parser.BinaryEvent, parser.BinaryAck:
		var elems []json.RawMessage
		if err := json.Unmarshal(p.Data, &elems); err != nil {
			t.Fatal(err)
		}
		gp.Args = []any{}
		for _, e := range elems {
			var bin struct {
				Bin *string `json:"$bin"`
			}
			if json.Unmarshal(e, &bin) == nil && bin.Bin != nil {
				b, _ := base64.StdEncoding.DecodeString(*bin.Bin)
				gp.Args = append(gp.Args, b)
				continue
			}
			var str string
			if len(e) > 0 && e[0] == '"' && json.Unmarshal(e, &str) == nil {
				gp.Args = append(gp.Args, str) // exercise the Go string encoder
				continue
			}
			gp.Args = append(gp.Args, e)
		}
	default:
		gp.Payload = p.Data
	}
	return gp
}

func frameJSON(f parser.Frame) any {
	if f.Binary {
		return map[string]string{"$bin": base64.StdEncoding.EncodeToString(f.Data)}
	}
	return string(f.Data)
}

// TestParserMatchesSocketIOParser encodes the same packets with the Go codec
// and the reference socket.io-parser 4.2 and compares the frames, then feeds
// the Go frames to the reference decoder.
func TestParserMatchesSocketIOParser(t *testing.T) {
	t.Parallel()
	node := requireNode(t)
	id := func(v uint64) *uint64 { return &v }
	packets := []jsPacket{
		{Type: 0, Nsp: "/"},
		{Type: 0, Nsp: "/admin", Data: json.RawMessage(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)},
		{Type: 1, Nsp: "/admin"},
		{Type: 2, Nsp: "/", Data: json.RawMessage(`["hello",1,"two",{"z":1,"a":[true,null,1.5]}]`)},
		{Type: 2, Nsp: "/admin", ID: id(456), Data: json.RawMessage(`["project:delete",123]`)},
		{Type: 3, Nsp: "/admin", ID: id(456), Data: json.RawMessage(`[]`)},
		{Type: 4, Nsp: "/", Data: json.RawMessage(`{"message":"Not authorized","data":{"code":42}}`)},
		{Type: 2, Nsp: "/", Data: json.RawMessage(`["baz",{"$bin":"AQIDBA=="}]`)},
		{Type: 2, Nsp: "/admin", ID: id(14), Data: json.RawMessage(`["baz",{"$bin":"AQI="},"mid",{"$bin":"AwQ="}]`)},
		{Type: 3, Nsp: "/", ID: id(15), Data: json.RawMessage(`["bar",{"$bin":"AQIDBA=="}]`)},
		{Type: 2, Nsp: "/", Data: json.RawMessage(`["unicode","é ✓ 😀 \u2028 <&>","quote\"back\\slash\n","\u0001\u001f\t\b\f\r"]`)},
	}
	var goFrames [][]any
	for _, p := range packets {
		frames, err := parser.Encode(toGo(t, p))
		if err != nil {
			t.Fatal(err)
		}
		var fs []any
		for _, f := range frames {
			fs = append(fs, frameJSON(f))
		}
		goFrames = append(goFrames, fs)
	}
	req, _ := json.Marshal(map[string]any{"encode": packets, "decode": goFrames})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(testenv.RepoRoot(t), "tests", "e2e", "js", "parser.js"))
	cmd.Stdin = bytes.NewReader(req)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("parser.js: %v", err)
	}
	var res struct {
		Encoded [][]any          `json:"encoded"`
		Decoded []map[string]any `json:"decoded"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	for i := range packets {
		want, _ := json.Marshal(res.Encoded[i])
		got, _ := json.Marshal(goFrames[i])
		if !bytes.Equal(want, got) {
			t.Errorf("packet %d: Go %s, socket.io-parser %s", i, got, want)
		}
		if e, ok := res.Decoded[i]["error"]; ok {
			t.Errorf("packet %d: socket.io-parser rejects the Go frames: %v", i, e)
		}
		// and the Go decoder reads the reference frames back to the same packet
		d := parser.NewDecoder(parser.DecoderConfig{})
		var p *parser.Packet
		for _, f := range res.Encoded[i] {
			fr := parser.Frame{}
			switch v := f.(type) {
			case string:
				fr.Data = []byte(v)
			case map[string]any:
				fr.Data, _ = base64.StdEncoding.DecodeString(v["$bin"].(string))
				fr.Binary = true
			}
			if p, err = d.Add(fr); err != nil {
				t.Fatalf("packet %d: Go decoder: %v", i, err)
			}
		}
		if p == nil {
			t.Fatalf("packet %d: incomplete", i)
		}
		again, _ := parser.Encode(p)
		var fs []any
		for _, f := range again {
			fs = append(fs, frameJSON(f))
		}
		if reenc, _ := json.Marshal(fs); !bytes.Equal(reenc, want) {
			t.Errorf("packet %d: decode+encode %s, want %s", i, reenc, want)
		}
	}
}
