package wire

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestGoldenStreamEntries re-encodes every XADD captured from the real
// streams adapter from its decoded form: same fields, same order, same data.
func TestGoldenStreamEntries(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/redis-streams-adapter-0.3.1-csr.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	field := regexp.MustCompile(`^\s+field (\w+) = (.*)$`)
	var entries [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "--- XADD") {
			entries = append(entries, nil)
			continue
		}
		if m := field.FindStringSubmatch(line); m != nil && len(entries) > 0 {
			entries[len(entries)-1] = append(entries[len(entries)-1], m[1], m[2])
		}
	}
	if len(entries) < 5 {
		t.Fatalf("found %d XADD entries", len(entries))
	}
	for _, want := range entries {
		m := map[string]string{}
		for i := 0; i+1 < len(want); i += 2 {
			m[want[i]] = want[i+1]
		}
		e, err := DecodeStreamEntry(m)
		if err != nil {
			t.Fatalf("%v: %v", want, err)
		}
		msg, err := e.Message()
		if err != nil {
			t.Fatalf("%v: %v", want, err)
		}
		got := EntryFromMessage(msg).Fields()
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("fields\n got %q\nwant %q", got, want)
		}
	}
}

func TestSessionFormat(t *testing.T) {
	t.Parallel()
	// decoded session from the capture; the capture says the stored value is 132 base64 chars
	s := Session{SID: "zvfFys8f29ZOJTWDAAAA", PID: "NENzuXqeLT9lKGUdAAAB",
		Rooms: []string{"zvfFys8f29ZOJTWDAAAA", "room1", "r2"}, Data: MapValue(M("n", IntValue(1)))}
	enc := s.Encode()
	if len(enc) != 132 {
		t.Errorf("encoded session is %d chars, the real adapter wrote 132", len(enc))
	}
	back, err := DecodeSession(enc)
	if err != nil {
		t.Fatal(err)
	}
	if back.SID != s.SID || back.PID != s.PID || strings.Join(back.Rooms, ",") != "zvfFys8f29ZOJTWDAAAA,room1,r2" || back.Data.String() != `{"n":1}` {
		t.Errorf("round trip = %+v", back)
	}
	if next, ok := NextOffset("1700000000003-0"); !ok || next != "1700000000003-1" {
		t.Errorf("NextOffset = %q %v", next, ok)
	}
	for _, tc := range []struct {
		opts Opts
		want bool
	}{
		{Opts{Rooms: []string{"room1"}}, true},
		{Opts{Rooms: []string{"other"}}, false},
		{Opts{}, true},
		{Opts{Except: []string{"r2"}}, false},
	} {
		if got := IncludePacket(s.Rooms, tc.opts); got != tc.want {
			t.Errorf("IncludePacket(%+v) = %v", tc.opts, got)
		}
	}
}
