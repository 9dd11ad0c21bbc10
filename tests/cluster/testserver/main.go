// Command testserver is a tiny Socket.IO server built on service/socketio and
// service/redisadapter, driven over Socket.IO control events by
// tests/cluster/js/driver.js (the same control protocol as js/node-server.js).
//
// Usage: testserver -redis URL [-mode classic|sharded] [-name NAME]
// It listens on 127.0.0.1:0 and prints "LISTEN http://ADDR" on stdout.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hubkit/hubkit/service/redisadapter"
	"github.com/hubkit/hubkit/service/socketio"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "testserver:", err)
		os.Exit(1)
	}
}

type command struct {
	Op      string            `json:"op"`
	Rooms   []string          `json:"rooms"`
	Except  []string          `json:"except"`
	Join    []string          `json:"join"`
	Event   string            `json:"event"`
	Args    []json.RawMessage `json:"args"`
	Timeout int               `json:"timeout"`

	// raw holds the arguments as received when they carry binary (the
	// JSON decoding above would turn a Buffer into base64).
	raw []any
}

func (c command) args() []any {
	if c.raw != nil {
		return c.raw
	}
	out := make([]any, len(c.Args))
	for i, a := range c.Args {
		out[i] = a
	}
	return out
}

func run() error {
	redisURL := flag.String("redis", os.Getenv("REDIS_URL"), "Redis URL")
	modeFlag := flag.String("mode", "classic", "classic or sharded")
	name := flag.String("name", "go", "node name")
	withPprof := flag.Bool("pprof", false, "serve /debug/pprof/ (profiling under tests/load)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	mode, err := redisadapter.ParseMode(*modeFlag)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	startCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cl, err := redisadapter.New(startCtx, redisadapter.Config{URL: *redisURL, Mode: mode, Logger: log,
		RequestTimeout: 3 * time.Second})
	if err != nil {
		return err
	}
	defer cl.Close()
	io, err := socketio.New(socketio.Config{Adapter: cl.Factory(), Logger: log})
	if err != nil {
		return err
	}
	defer io.Close()
	setup(io, *name)

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	if *withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	}
	mux.HandleFunc("/emit", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		err := io.To(q.Get("room")).Emit(q.Get("event"), q.Get("data"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, c := context.WithTimeout(context.Background(), 2*time.Second)
		defer c()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := cl.WaitReady(startCtx); err != nil {
		return err
	}
	fmt.Printf("LISTEN http://%s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func setup(io *socketio.Server, name string) {
	nsp := io.Of("/")
	nsp.OnServerSideEmit("sse", func(args socketio.Args, ack func(args ...any)) {
		_ = nsp.Local().Emit("got-sse", append([]any{name}, []any(args)...)...)
		if ack != nil {
			ack("pong-" + name)
		}
	})
	nsp.OnConnection(func(s *socketio.Socket) {
		s.SetData(map[string]string{"node": name})
		// join and publish follow the hub's client contract, so tests/load
		// can drive this server too
		s.On("join", func(args socketio.Args, ack socketio.AckFunc) {
			room, _ := args.String(0)
			s.Join(room)
			if ack != nil {
				_ = ack(map[string]bool{"ok": true})
			}
		})
		s.On("publish", func(args socketio.Args, ack socketio.AckFunc) {
			room, _ := args.String(0)
			event, _ := args.String(1)
			var payload any
			if len(args) > 2 {
				payload = args[2]
			}
			err := s.To(room).Emit(event, payload)
			if ack != nil {
				if err != nil {
					_ = ack(map[string]string{"error": err.Error()})
				} else {
					_ = ack(map[string]bool{"ok": true})
				}
			}
		})
		s.On("cmd", func(args socketio.Args, ack socketio.AckFunc) {
			var c command
			if err := args.Decode(0, &c); err != nil || ack == nil {
				return
			}
			if tree, ok := args[0].(map[string]any); ok {
				c.raw, _ = tree["args"].([]any)
			}
			// run off the connection's reader goroutine: some commands wait
			// for other servers or for this very client's acks
			go func() { _ = ack(handle(nsp, c)) }()
		})
	})
}

func firstArgs(res []socketio.Args) []any {
	out := make([]any, 0, len(res))
	for _, a := range res {
		if len(a) > 0 {
			out = append(out, a[0])
		} else {
			out = append(out, nil)
		}
	}
	return out
}

func errString(err error) any {
	if err == nil {
		return nil
	}
	return err.Error()
}

func handle(nsp *socketio.Namespace, c command) any {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	op := nsp.To(c.Rooms...).Except(c.Except...)
	switch c.Op {
	case "emit":
		return errString(op.Emit(c.Event, c.args()...))
	case "emitAck":
		done := make(chan any, 1)
		cb := func(err error, res []socketio.Args) {
			done <- map[string]any{"err": errString(err), "responses": firstArgs(res)}
		}
		if err := op.Timeout(time.Duration(c.Timeout)*time.Millisecond).Emit(c.Event, append(c.args(), cb)...); err != nil {
			return map[string]any{"err": err.Error()}
		}
		select {
		case r := <-done:
			return r
		case <-ctx.Done():
			return map[string]any{"err": "no callback"}
		}
	case "fetch":
		socks, err := op.FetchSockets(ctx)
		out := make([]any, 0, len(socks))
		for _, s := range socks {
			out = append(out, map[string]any{"id": s.ID, "data": s.Data, "rooms": s.Rooms})
		}
		return map[string]any{"err": errString(err), "sockets": out}
	case "socketsJoin":
		return errString(op.SocketsJoin(ctx, c.Join...))
	case "socketsLeave":
		return errString(op.SocketsLeave(ctx, c.Join...))
	case "disconnect":
		return errString(op.DisconnectSockets(ctx, true))
	case "sse":
		return errString(nsp.ServerSideEmit(ctx, c.Event, c.args()...))
	case "sseAck":
		res, err := nsp.ServerSideEmitWithAck(ctx, c.Event, c.args()...)
		out := make([]any, 0, len(res))
		for _, r := range res {
			if len(r) > 0 {
				out = append(out, r[0])
			}
		}
		return map[string]any{"err": errString(err), "responses": out}
	}
	return "unknown op " + c.Op
}
