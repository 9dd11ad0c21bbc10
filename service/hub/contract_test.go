package hub

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
)

// fakeMember and fakeBroadcaster are unit-test doubles of the socket layer.
type fakeMember struct {
	id      string
	mu      sync.Mutex
	rooms   map[string]bool
	joinErr error
}

func newFakeMember(id string) *fakeMember { return &fakeMember{id: id, rooms: map[string]bool{}} }

func (m *fakeMember) ID() string { return m.id }
func (m *fakeMember) Join(room string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.joinErr != nil {
		return m.joinErr
	}
	m.rooms[room] = true
	return nil
}
func (m *fakeMember) Leave(room string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rooms, room)
	return nil
}
func (m *fakeMember) in(room string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rooms[room]
}

type broadcast struct {
	room, event, except string
	args                []any
}

type fakeBroadcaster struct {
	mu   sync.Mutex
	sent []broadcast
	err  error
}

func (b *fakeBroadcaster) Broadcast(_ context.Context, room, event string, args []any, except string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	b.sent = append(b.sent, broadcast{room, event, except, args})
	return nil
}

func TestContractJoinLeave(t *testing.T) {
	t.Parallel()
	c, err := NewContract(ContractConfig{Broadcaster: &fakeBroadcaster{}, Metrics: NewMetrics()})
	if err != nil {
		t.Fatal(err)
	}
	grants := Grants{Join: RoomPatterns{"chat:*", "news"}}
	m := newFakeMember("s1")
	s := c.Connect(m, grants)
	tests := []struct {
		op, room string
		wantErr  string
		rooms    int
	}{
		{"join", "chat:a", "", 1},
		{"join", "chat:a", "", 1}, // idempotent
		{"join", "news", "", 2},
		{"join", "secret", "not allowed to join room secret", 2},
		{"join", "", "non-empty", 2},
		{"join", strings.Repeat("x", 300), "longer than", 2},
		{"leave", "chat:a", "", 1},
		{"leave", "never-joined", "", 1},
		{"leave", "news", "", 0},
	}
	for i, tt := range tests {
		var ack Ack
		if tt.op == "join" {
			ack = c.Join(s, tt.room)
		} else {
			ack = c.Leave(s, tt.room)
		}
		if tt.wantErr == "" && (!ack.OK || ack.Error != "") {
			t.Fatalf("step %d %s(%q) = %+v", i, tt.op, tt.room, ack)
		}
		if tt.wantErr != "" && (ack.OK || !strings.Contains(ack.Error, tt.wantErr)) {
			t.Fatalf("step %d %s(%q) = %+v, want error %q", i, tt.op, tt.room, ack, tt.wantErr)
		}
		if got := c.Rooms(); got != tt.rooms {
			t.Fatalf("step %d: rooms = %d, want %d", i, got, tt.rooms)
		}
	}
	if m.in("chat:a") || m.in("news") || m.in("secret") {
		t.Fatalf("member rooms = %v", m.rooms)
	}
}

func TestContractAckJSON(t *testing.T) {
	t.Parallel()
	for ack, want := range map[Ack]string{ackOK: `{"ok":true}`, {Error: "nope"}: `{"error":"nope"}`} {
		b, err := json.Marshal(ack)
		if err != nil || string(b) != want {
			t.Errorf("json(%+v) = %s, %v; want %s", ack, b, err, want)
		}
	}
}

func TestContractRoomCountAcrossSockets(t *testing.T) {
	t.Parallel()
	c, err := NewContract(ContractConfig{Broadcaster: &fakeBroadcaster{}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	sessions := make([]*Session, 20)
	for i := range sessions {
		sessions[i] = c.Connect(newFakeMember(string(rune('a'+i))), OpenGrants())
	}
	for _, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range []string{"r1", "r2", "r3"} {
				if ack := c.Join(s, r); !ack.OK {
					t.Errorf("join: %+v", ack)
				}
			}
		}()
	}
	wg.Wait()
	if got := c.Rooms(); got != 3 {
		t.Fatalf("rooms = %d, want 3", got)
	}
	for _, s := range sessions {
		c.Disconnect(s)
		c.Disconnect(s) // idempotent
	}
	if got := c.Rooms(); got != 0 {
		t.Fatalf("rooms after disconnect = %d", got)
	}
	if ack := c.Join(sessions[0], "r1"); ack.OK {
		t.Fatal("join after disconnect succeeded")
	}
}

func TestContractPublish(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		grants      Grants
		room, event string
		bcErr       error
		wantErr     string
	}{
		{name: "ok", grants: Grants{Publish: RoomPatterns{"chat:*"}}, room: "chat:1", event: "msg"},
		{name: "forbidden", grants: Grants{Publish: RoomPatterns{"chat:*"}}, room: "ops", event: "msg", wantErr: "not allowed to publish to room ops"},
		{name: "join grant is not publish grant", grants: Grants{Join: RoomPatterns{"*"}}, room: "chat:1", event: "msg", wantErr: "not allowed"},
		{name: "reserved event", grants: OpenGrants(), room: "r", event: "connect", wantErr: "reserved"},
		{name: "no event", grants: OpenGrants(), room: "r", event: "", wantErr: `"event" is required`},
		{name: "no room", grants: OpenGrants(), room: "", event: "e", wantErr: `"room" is required`},
		{name: "adapter fails", grants: OpenGrants(), room: "r", event: "e", bcErr: errors.New("redis down"), wantErr: "publish failed: redis down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bc := &fakeBroadcaster{err: tt.bcErr}
			c, err := NewContract(ContractConfig{Broadcaster: bc})
			if err != nil {
				t.Fatal(err)
			}
			s := c.Connect(newFakeMember("pub1"), tt.grants)
			payload := []any{json.RawMessage(`{"text":"hi"}`)}
			ack := c.Publish(context.Background(), s, tt.room, tt.event, payload)
			bc.mu.Lock()
			defer bc.mu.Unlock()
			if tt.wantErr != "" {
				if ack.OK || !strings.Contains(ack.Error, tt.wantErr) {
					t.Fatalf("ack = %+v, want error %q", ack, tt.wantErr)
				}
				if len(bc.sent) != 0 {
					t.Fatalf("broadcast despite error: %+v", bc.sent)
				}
				return
			}
			if !ack.OK {
				t.Fatalf("ack = %+v", ack)
			}
			if len(bc.sent) != 1 || bc.sent[0].room != tt.room || bc.sent[0].event != tt.event ||
				bc.sent[0].except != "pub1" || len(bc.sent[0].args) != 1 {
				t.Fatalf("sent = %+v", bc.sent)
			}
		})
	}
}

func TestContractJoinFailureIsReported(t *testing.T) {
	t.Parallel()
	c, err := NewContract(ContractConfig{Broadcaster: &fakeBroadcaster{}})
	if err != nil {
		t.Fatal(err)
	}
	m := newFakeMember("s1")
	m.joinErr = errors.New("subscribe failed")
	s := c.Connect(m, OpenGrants())
	if ack := c.Join(s, "r"); ack.OK || !strings.Contains(ack.Error, "subscribe failed") {
		t.Fatalf("ack = %+v", ack)
	}
	if c.Rooms() != 0 {
		t.Fatal("failed join counted")
	}
}

func TestStringArg(t *testing.T) {
	t.Parallel()
	args := []any{"plain", json.RawMessage(`"raw"`), json.RawMessage(`5`), []byte("bin")}
	for i, want := range []struct {
		s  string
		ok bool
	}{{"plain", true}, {"raw", true}, {"", false}, {"", false}, {"", false}} {
		if s, ok := StringArg(args, i); s != want.s || ok != want.ok {
			t.Errorf("StringArg(%d) = %q, %v", i, s, ok)
		}
	}
}

func TestIsSocketIDShaped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		room string
		want bool
	}{
		{"AbCdEfGhIjKlMnOpQrSt", true},
		{"x-_0123456789abcdefg", true},   // Node's base64id maps + and / to - and _
		{"notifications-global", true},   // a 20-character name of that alphabet is reserved too
		{"AbCdEfGhIjKlMnOpQrS", false},   // 19
		{"AbCdEfGhIjKlMnOpQrStu", false}, // 21
		{"chat:AbCdEfGhIjKlMnOp", false}, // ':' is not in the alphabet
		{"AbCdEfGhIjKlMnOpQrS=", false},
		{"AbCdEfGhIjKlMnOpQrS+", false},
		{"AbCdEfGhIjKlMnOpQrS/", false},
		{"AbCdEfGhIjKlMnOpQré", false}, // 20 bytes, not 20 base64 characters
		{"", false},
	}
	for _, tt := range tests {
		if got := IsSocketIDShaped(tt.room); got != tt.want {
			t.Errorf("IsSocketIDShaped(%q) = %v, want %v", tt.room, got, tt.want)
		}
	}
}

// TestContractSocketRooms: a client can neither join nor publish to a
// socket's own room — the id of a local socket, or any name shaped like a
// socket id unless its token names that room exactly.
func TestContractSocketRooms(t *testing.T) {
	t.Parallel()
	const (
		victim   = "VictimSocketId0123_-" // a connected local socket
		remote   = "RemoteSocketId012345" // shaped like an id, not local
		odd      = "legacy#id"            // a local socket id of another shape
		ownID    = "MyOwnSocketId0123456"
		refusal  = "looks like a socket id"
		wildcard = "*"
	)
	localIDs := map[string]bool{victim: true, odd: true, ownID: true}
	tests := []struct {
		name    string
		join    RoomPatterns // also used as the publish grants
		room    string
		wantErr string
	}{
		{"open: local socket id", OpenGrants().Join, victim, refusal},
		{"open: remote socket id", OpenGrants().Join, remote, refusal},
		{"open: own id", OpenGrants().Join, ownID, refusal},
		{"open: local id of another shape", OpenGrants().Join, odd, refusal},
		{"open: ordinary room", OpenGrants().Join, "chat:lobby", ""},
		{"open: 21 characters", OpenGrants().Join, remote + "x", ""},
		{"wildcard grant", RoomPatterns{wildcard}, remote, refusal},
		{"prefix grant", RoomPatterns{"Remote*"}, remote, refusal},
		{"exact grant of a shaped name", RoomPatterns{remote}, remote, ""},
		{"exact grant of a local socket id", RoomPatterns{victim}, victim, refusal},
		{"exact grant, other room", RoomPatterns{remote}, "x", "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := NewMetrics()
			c, err := NewContract(ContractConfig{
				Broadcaster: &fakeBroadcaster{}, Metrics: m,
				IsSocket: func(id string) bool { return localIDs[id] },
			})
			if err != nil {
				t.Fatal(err)
			}
			mem := newFakeMember(ownID)
			s := c.Connect(mem, Grants{Join: tt.join, Publish: tt.join})
			join := c.Join(s, tt.room)
			pub := c.Publish(context.Background(), s, tt.room, "e", nil)
			restored := c.Restore(c.Connect(newFakeMember("other"), Grants{Join: tt.join}), tt.room)
			for op, ack := range map[string]Ack{"join": join, "publish": pub} {
				if tt.wantErr == "" && !ack.OK {
					t.Errorf("%s(%q) = %+v, want ok", op, tt.room, ack)
				}
				if tt.wantErr != "" && (ack.OK || !strings.Contains(ack.Error, tt.wantErr)) {
					t.Errorf("%s(%q) = %+v, want error %q", op, tt.room, ack, tt.wantErr)
				}
			}
			if restored != (tt.wantErr == "") {
				t.Errorf("Restore(%q) = %v", tt.room, restored)
			}
			if tt.wantErr != "" && mem.in(tt.room) {
				t.Errorf("member joined %q", tt.room)
			}
			if tt.wantErr == refusal {
				for _, reason := range []string{"join_socket_room", "publish_socket_room"} {
					if got := counter(t, m, "hub_errors_total", "reason", reason); got != 1 {
						t.Errorf("%s = %v, want 1", reason, got)
					}
				}
			}
		})
	}

	// The refusal reads the same for a live local id and a merely shaped
	// name: it is no oracle for which sockets exist.
	c, err := NewContract(ContractConfig{Broadcaster: &fakeBroadcaster{}, IsSocket: func(id string) bool { return id == victim }})
	if err != nil {
		t.Fatal(err)
	}
	s := c.Connect(newFakeMember("a"), OpenGrants())
	live, shaped := c.Join(s, victim).Error, c.Join(s, remote).Error
	if strings.ReplaceAll(live, victim, "ID") != strings.ReplaceAll(shaped, remote, "ID") {
		t.Errorf("refusals differ: %q vs %q", live, shaped)
	}
}
