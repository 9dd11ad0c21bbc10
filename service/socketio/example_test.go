package socketio_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/hubkit/hubkit/service/socketio"
)

// wireClient is a bare Engine.IO websocket used to show what a
// socket.io-client would exchange with the server (real applications use
// socket.io-client itself).
type wireClient struct{ c *websocket.Conn }

func dialWire(url string) *wireClient {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		panic(err)
	}
	w := &wireClient{c}
	w.read() // Engine.IO open packet
	return w
}

func (w *wireClient) send(s string) {
	_ = w.c.Write(context.Background(), websocket.MessageText, []byte(s))
}

// read returns the next Engine.IO message, skipping heartbeats.
func (w *wireClient) read() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, b, err := w.c.Read(ctx)
		if err != nil {
			return err.Error()
		}
		if s := string(b); s != "2" {
			return s
		}
	}
}

// connect joins the main namespace and hides the random socket id.
func (w *wireClient) connect() {
	w.send("40")
	if ack := w.read(); !strings.HasPrefix(ack, `40{"sid":"`) {
		panic(ack)
	}
}

// An echo server: every "echo" event is sent back with the very same
// arguments (raw JSON bytes and binary attachments are preserved), and
// acknowledgements are answered.
func Example_echo() {
	io, err := socketio.New(socketio.Config{})
	if err != nil {
		panic(err)
	}
	defer io.Close()
	io.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(args socketio.Args, ack socketio.AckFunc) {
			if ack != nil {
				_ = ack(args...)
				return
			}
			_ = s.Emit("echo", args...)
		})
	})
	srv := httptest.NewServer(io) // or http.Handle("/socket.io/", io)
	defer srv.Close()

	client := dialWire(srv.URL)
	defer client.c.CloseNow()
	client.connect()
	client.send(`42["echo",{"b":1,"a":[true]},"x"]`)
	fmt.Println(client.read())
	client.send(`427["echo","with ack"]`)
	fmt.Println(client.read())
	// Output:
	// 42["echo",{"b":1,"a":[true]},"x"]
	// 437["with ack"]
}

// A room chat: clients join rooms with an acknowledged "join" event and
// "say" broadcasts to everyone else in the room.
func Example_roomChat() {
	io, err := socketio.New(socketio.Config{})
	if err != nil {
		panic(err)
	}
	defer io.Close()
	io.OnConnection(func(s *socketio.Socket) {
		s.On("join", func(args socketio.Args, ack socketio.AckFunc) {
			room, err := args.String(0)
			if err != nil || ack == nil {
				return
			}
			s.Join(room)
			_ = ack(map[string]any{"ok": true})
		})
		s.On("say", func(args socketio.Args, _ socketio.AckFunc) {
			var msg struct {
				Room string `json:"room"`
				Text string `json:"text"`
			}
			if args.Decode(0, &msg) != nil {
				return
			}
			// everyone in the room except the sender
			_ = s.To(msg.Room).Emit("said", msg.Text)
		})
	})
	srv := httptest.NewServer(io)
	defer srv.Close()

	alice, bob := dialWire(srv.URL), dialWire(srv.URL)
	defer alice.c.CloseNow()
	defer bob.c.CloseNow()
	alice.connect()
	bob.connect()
	alice.send(`421["join","lobby"]`)
	fmt.Println("alice:", alice.read())
	bob.send(`421["join","lobby"]`)
	fmt.Println("bob:", bob.read())
	alice.send(`42["say",{"room":"lobby","text":"hi bob"}]`)
	fmt.Println("bob:", bob.read())
	// the server can also broadcast to a room from anywhere
	_ = io.To("lobby").Emit("said", "server notice")
	fmt.Println("alice:", alice.read())
	fmt.Println("bob:", bob.read())
	// Output:
	// alice: 431[{"ok":true}]
	// bob: 431[{"ok":true}]
	// bob: 42["said","hi bob"]
	// alice: 42["said","server notice"]
	// bob: 42["said","server notice"]
}
