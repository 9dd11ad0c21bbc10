package wire

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// vector is one message captured from a real Node adapter.
type vector struct {
	file, title, verb, channel string
	raw                        []byte
	decoded                    string // notepack.decode / decoded line, "" when absent
}

var (
	pubRe   = regexp.MustCompile(`^--- (S?PUBLISH) (?:channel=")?([^"\s]+)"?`)
	titleRe = regexp.MustCompile(`^## (.*)`)
	fieldRe = regexp.MustCompile(`^\s+field data = (.*)$`)
)

// loadVectors reads every PUBLISH/SPUBLISH capture in testdata, plus the
// stream entries' data fields (verb "XADD").
func loadVectors(t testing.TB) []vector {
	t.Helper()
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in testdata: %v", err)
	}
	var out []vector
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var cur *vector
		title := ""
		flush := func() {
			if cur != nil && cur.raw != nil {
				out = append(out, *cur)
			}
			cur = nil
		}
		for sc.Scan() {
			line := sc.Text()
			if m := titleRe.FindStringSubmatch(line); m != nil {
				flush()
				title = m[1]
				continue
			}
			if m := pubRe.FindStringSubmatch(line); m != nil {
				flush()
				cur = &vector{file: filepath.Base(f), title: title, verb: m[1], channel: m[2]}
				continue
			}
			if m := fieldRe.FindStringSubmatch(line); m != nil {
				flush()
				v := vector{file: filepath.Base(f), title: title, verb: "XADD"}
				if strings.HasPrefix(m[1], "{") {
					v.raw = []byte(m[1])
				} else {
					b, err := base64.StdEncoding.DecodeString(m[1])
					if err != nil {
						t.Fatalf("%s: bad base64 %q", f, m[1])
					}
					v.raw = b
				}
				out = append(out, v)
				continue
			}
			if cur == nil {
				continue
			}
			trimmed := strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(trimmed, "bytes: "):
				b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimPrefix(trimmed, "bytes: "), " ", ""))
				if err != nil {
					t.Fatalf("%s: bad hex in %q: %v", f, title, err)
				}
				cur.raw = b
			case strings.HasPrefix(trimmed, "string: "):
				cur.raw = []byte(strings.TrimPrefix(trimmed, "string: "))
			case strings.HasPrefix(trimmed, "notepack.decode: "), strings.HasPrefix(trimmed, "decoded: "):
				_, cur.decoded, _ = strings.Cut(trimmed, ": ")
			}
		}
		flush()
		_ = fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestVectorsLoaded(t *testing.T) {
	t.Parallel()
	vs := loadVectors(t)
	// 5 vector files of PUBLISH captures + stream entries; fail loudly if the
	// parser silently stops finding them.
	if len(vs) < 60 {
		t.Fatalf("found only %d vectors", len(vs))
	}
}

// TestGoldenValueRoundTrip decodes every captured message into a Value and
// re-encodes it in the same format, byte for byte.
func TestGoldenValueRoundTrip(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		t.Run(v.file+"/"+v.title, func(t *testing.T) {
			t.Parallel()
			var got []byte
			if v.raw[0] == '{' {
				val, err := ParseJSON(v.raw)
				if err != nil {
					t.Fatalf("ParseJSON: %v", err)
				}
				got = AppendJSON(nil, val)
			} else {
				val, err := DecodeMsgpack(v.raw)
				if err != nil {
					t.Fatalf("DecodeMsgpack: %v", err)
				}
				got = EncodeMsgpack(val)
				if v.decoded != "" {
					// The capture's JSON rendering shows Buffers as {"Buffer":[..]}
					// or {"type":"Buffer",...}; compare after normalising ours.
					want := strings.ReplaceAll(v.decoded, `{"Buffer":[1,2,3]}`, `{"type":"Buffer","data":[1,2,3]}`)
					if s := val.String(); s != want {
						t.Errorf("decoded\n got %s\nwant %s", s, want)
					}
				}
			}
			if !bytes.Equal(got, v.raw) {
				t.Errorf("re-encoded differs\n got % x\nwant % x", got, v.raw)
			}
		})
	}
}

// TestGoldenTyped decodes every captured message into its typed form and
// encodes it again with this package's message encoders: what a Go node
// publishes is what a Node node publishes.
func TestGoldenTyped(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		if v.verb == "XADD" {
			continue
		}
		t.Run(v.file+"/"+v.title, func(t *testing.T) {
			t.Parallel()
			got, err := reencodeTyped(v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, v.raw) {
				t.Errorf("typed re-encode differs on %s\n got %q\nwant %q", v.channel, got, v.raw)
			}
		})
	}
}

func reencodeTyped(v vector) ([]byte, error) {
	sharded := v.verb == "SPUBLISH" || strings.Contains(v.file, "streams")
	switch {
	case sharded:
		m, err := DecodeCluster(v.raw)
		if err != nil {
			return nil, err
		}
		if v.raw[0] != '{' && !m.Packet.Data.HasBinary() {
			return m.EncodeMsgpack(), nil
		}
		return m.Encode(), nil
	case strings.Contains(v.channel, "-request#"):
		r, err := DecodeRequest(v.raw)
		if err != nil {
			return nil, err
		}
		return r.Encode(), nil
	case strings.Contains(v.channel, "-response#"):
		r, err := DecodeResponse(v.raw)
		if err != nil {
			return nil, err
		}
		return encodeResponse(r), nil
	default:
		b, err := DecodeBroadcast(v.raw)
		if err != nil {
			return nil, err
		}
		if want := BroadcastChannel(DefaultPrefix, b.Packet.NSP, b.Opts.Rooms); want != v.channel {
			return nil, malformed("channel %q, BroadcastChannel gives %q", v.channel, want)
		}
		return b.Encode(), nil
	}
}

func encodeResponse(r Response) []byte {
	if r.HasType {
		switch r.Type {
		case ReqServerSideEmit:
			return ServerSideEmitResponse(r.RequestID, r.Data)
		case ReqBroadcastClientCount:
			return ClientCountResponse(r.RequestID, r.ClientCount)
		case ReqBroadcastAck:
			return BroadcastAckResponse(r.RequestID, r.Packet)
		}
	}
	switch {
	case r.Sockets != nil:
		return FetchResponse(r.RequestID, r.Sockets)
	case r.HasSockets():
		return SocketIDsResponse(r.RequestID, r.SocketIDs)
	case r.HasRooms():
		return AllRoomsResponse(r.RequestID, r.Rooms)
	}
	return AckResponse(r.RequestID)
}
