// Command conformance runs a server that behaves like the reference servers
// of the "Test suite" sections of the engine.io-protocol and
// socket.io-protocol READMEs, built on hubkit's own engineio and socketio
// packages, so a suite written against those reference servers runs
// against the hub unchanged. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/hubkit/hubkit/service/engineio"
	"github.com/hubkit/hubkit/service/socketio"
)

// Settings of the reference servers.
const (
	pingInterval   = 300 * time.Millisecond
	pingTimeout    = 200 * time.Millisecond
	maxPayload     = 1_000_000
	connectTimeout = 1000 * time.Millisecond
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	port := 3000
	if v := os.Getenv("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("PORT: %w", err)
		}
		port = p
	}
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.IntVar(&port, "port", port, "TCP port to listen on (env PORT)")
	host := fs.String("host", "", "interface to listen on (default all)")
	verbose := fs.Bool("v", false, "debug logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	h, closeFn, err := newHandler(log)
	if err != nil {
		return err
	}
	defer closeFn()
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("conformance server listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newHandler builds the two reference servers: an Engine.IO echo server at
// /engine.io/ and a Socket.IO server at /socket.io/.
func newHandler(log *slog.Logger) (http.Handler, func(), error) {
	eio, err := engineio.NewServer(engineio.Config{
		PingInterval: pingInterval,
		PingTimeout:  pingTimeout,
		MaxPayload:   maxPayload,
		Logger:       log,
		OnConnection: func(c *engineio.Conn) engineio.ConnHandler { return echo{c} },
	})
	if err != nil {
		return nil, nil, err
	}
	sio, err := socketio.New(socketio.Config{
		PingInterval:   pingInterval,
		PingTimeout:    pingTimeout,
		MaxPayload:     maxPayload,
		ConnectTimeout: connectTimeout,
		Logger:         log,
	})
	if err != nil {
		eio.Close()
		return nil, nil, err
	}
	setup := func(s *socketio.Socket) {
		_ = s.Emit("auth", s.Handshake().Auth)
		s.On("message", func(args socketio.Args, _ socketio.AckFunc) {
			_ = s.Emit("message-back", args...)
		})
		s.On("message-with-ack", func(args socketio.Args, ack socketio.AckFunc) {
			if ack != nil {
				_ = ack(args...)
			}
		})
	}
	sio.OnConnection(setup)
	sio.Of("/custom").OnConnection(setup)

	mux := http.NewServeMux()
	mux.Handle("/engine.io/", eio)
	mux.Handle("/socket.io/", sio)
	return mux, func() { eio.Close(); _ = sio.Close() }, nil
}

// echo sends every Engine.IO message back unchanged.
type echo struct{ c *engineio.Conn }

func (e echo) OnMessage(m engineio.Message) {
	m.Data = append([]byte(nil), m.Data...)
	_ = e.c.Send(m)
}

func (echo) OnClose(string) {}
