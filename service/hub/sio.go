package hub

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/hubkit/hubkit/service/adapter"
	"github.com/hubkit/hubkit/service/socketio"
	"golang.org/x/time/rate"
)

// SocketIOConfig configures [NewSocketIO].
type SocketIOConfig struct {
	// Settings supplies the Engine.IO limits, the JWT keys and the origins.
	Settings Settings
	// Adapter creates the namespace adapter. Nil = in-memory (single node).
	Adapter adapter.Factory
	// Ready reports whether the adapter is ready (e.g. its Redis
	// subscription is confirmed). Nil = always ready.
	Ready func() bool
	// CloseAdapter releases what backs Adapter (e.g. the Redis connections);
	// it is called after the Socket.IO server is closed. Nil = nothing.
	CloseAdapter func() error
	// AuthLeeway tolerates clock skew on token times, at CONNECT and for
	// the expiry of a connected socket. Zero = 5s.
	AuthLeeway time.Duration
	// Metrics is optional.
	Metrics *Metrics
	// Logger; nil = discard.
	Logger *slog.Logger
}

// SocketIO is the hub's Socket.IO stack: a socketio.Server whose namespace
// "/" runs the client contract behind JWT auth. It implements [Sockets],
// [Publisher] and [Broadcaster]. It is safe for concurrent use.
type SocketIO struct {
	srv      *socketio.Server
	nsp      *socketio.Namespace
	contract *Contract
	verifier *Verifier // nil = open
	leeway   time.Duration
	// clientRate and clientBurst size each connection's event budget
	// (Settings.ClientRate/ClientBurst).
	clientRate  float64
	clientBurst int
	metrics     *Metrics
	log         *slog.Logger
	ready       func() bool
	closeAd     func() error
}

// NewSocketIO builds the Socket.IO server and registers the contract.
func NewSocketIO(cfg SocketIOConfig) (*SocketIO, error) {
	s := cfg.Settings
	x := &SocketIO{metrics: cfg.Metrics, log: orDiscard(cfg.Logger), ready: cfg.Ready, closeAd: cfg.CloseAdapter, leeway: cfg.AuthLeeway,
		clientRate: s.ClientRate, clientBurst: max(1, s.ClientBurst)}
	if x.leeway <= 0 {
		x.leeway = 5 * time.Second
	}
	if s.AuthEnabled() {
		v, err := NewVerifier(VerifierConfig{Secret: s.JWTSecret, PublicKey: s.JWTPublicKey, Leeway: x.leeway})
		if err != nil {
			return nil, err
		}
		x.verifier = v
	}
	// Connection state recovery (HUB_RECOVERY_WINDOW > 0). The middleware
	// runs for recovered sockets too: the token is verified again and the
	// grants come from it, not from the stored session.
	var recovery *socketio.RecoveryConfig
	if s.RecoveryWindow > 0 {
		recovery = &socketio.RecoveryConfig{MaxDisconnectionDuration: s.RecoveryWindow, RunMiddlewares: true}
	}
	factory := cfg.Adapter
	if factory == nil {
		factory = adapter.MemoryFactory
		if recovery != nil {
			factory = func(nsp adapter.Namespace) (adapter.Adapter, error) {
				return adapter.NewMemory(adapter.MemoryConfig{
					Namespace: nsp, Recovery: adapter.RecoveryConfig{Window: s.RecoveryWindow},
				})
			}
		}
	}
	var observer socketio.Observer // hub_messages_out_total, hub_acks_timed_out_total
	if cfg.Metrics != nil {
		observer = cfg.Metrics
	}
	srv, err := socketio.New(socketio.Config{
		Recovery:       recovery,
		Adapter:        factory,
		Observer:       observer,
		Logger:         x.log,
		PingInterval:   s.PingInterval,
		PingTimeout:    s.PingTimeout,
		MaxPayload:     s.MaxPayload,
		WriteQueueSize: s.WriteQueue,
		AllowedOrigins: s.AllowedOrigins,
	})
	if err != nil {
		return nil, err
	}
	x.srv = srv
	if x.nsp, err = srv.OfErr("/"); err != nil {
		_ = srv.Close()
		return nil, err
	}
	if x.contract, err = NewContract(ContractConfig{
		Broadcaster: x, IsSocket: x.isSocket, Metrics: cfg.Metrics, Logger: x.log,
	}); err != nil {
		_ = srv.Close()
		return nil, err
	}
	cfg.Metrics.observeConnections(srv.EngineCount)
	x.nsp.Use(x.authenticate)
	x.nsp.OnConnection(x.onConnection)
	return x, nil
}

// isSocket reports whether id is a socket connected to this replica.
func (x *SocketIO) isSocket(id string) bool {
	_, ok := x.nsp.Socket(id)
	return ok
}

// Contract returns the client contract (its room count feeds /metrics).
func (x *SocketIO) Contract() *Contract { return x.contract }

// ServeHTTP serves Socket.IO under /socket.io/.
func (x *SocketIO) ServeHTTP(w http.ResponseWriter, r *http.Request) { x.srv.ServeHTTP(w, r) }

// Ready reports whether the adapter is ready.
func (x *SocketIO) Ready() bool { return x.ready == nil || x.ready() }

// Close closes every connection, the namespace adapters, then what backs
// them (Redis) last.
func (x *SocketIO) Close(context.Context) error {
	err := x.srv.Close()
	if x.closeAd != nil {
		err = errors.Join(err, x.closeAd())
	}
	return err
}

// Publish emits event(data) to room on every replica (the publish API).
func (x *SocketIO) Publish(ctx context.Context, room, event string, data json.RawMessage) error {
	var args []any
	if len(data) > 0 {
		args = []any{data}
	}
	return x.Broadcast(ctx, room, event, args, "")
}

// Broadcast emits event(args...) to room on every replica, except the socket
// except ("" = nobody).
func (x *SocketIO) Broadcast(_ context.Context, room, event string, args []any, except string) error {
	op := x.nsp.To(room)
	if except != "" {
		op = op.Except(except)
	}
	return op.Emit(event, args...)
}

// authenticate is the CONNECT middleware: it verifies the JWT of the auth
// payload ({token}) and stores the socket's grants.
func (x *SocketIO) authenticate(s *socketio.Socket) error {
	if x.verifier == nil {
		s.SetData(OpenGrants())
		return nil
	}
	token, err := TokenFromAuth(s.Handshake().Auth)
	if err == nil {
		var g Grants
		if g, err = x.verifier.Verify(token); err == nil {
			s.SetData(g)
			return nil
		}
	}
	code := "token_invalid"
	switch {
	case errors.Is(err, ErrTokenExpired):
		code = "token_expired"
	case errors.Is(err, ErrTokenMissing):
		code = "token_missing"
	}
	x.metrics.Error("auth_" + code)
	x.log.Debug("connect refused", "code", code, "err", err, "addr", s.Handshake().Address)
	return &socketio.ConnectError{Message: err.Error(), Data: map[string]string{"code": code}}
}

func (x *SocketIO) onConnection(s *socketio.Socket) {
	g, _ := s.Data().(Grants) // set by authenticate, which runs for every CONNECT
	sess := x.contract.Connect(member{s}, g)
	if s.Recovered() {
		for _, room := range s.Rooms() {
			if room != s.ID() && !x.contract.Restore(sess, room) {
				s.Leave(room)
			}
		}
	}
	lim := x.limiter()
	x.onRoomEvent(s, lim, EventJoin, func(room string) Ack { return x.contract.Join(sess, room) })
	x.onRoomEvent(s, lim, EventLeave, func(room string) Ack { return x.contract.Leave(sess, room) })
	s.On(EventPublish, func(args socketio.Args, ack socketio.AckFunc) {
		room, okRoom := StringArg(args, 0)
		event, okEvent := StringArg(args, 1)
		var a Ack
		switch {
		case !x.allow(lim):
			a = rateLimited
		case !okRoom:
			x.metrics.Error("publish_bad_args")
			a = Ack{Error: "publish(room, event, payload, ack): room must be a string"}
		case !okEvent:
			x.metrics.Error("publish_bad_args")
			a = Ack{Error: "publish(room, event, payload, ack): event must be a string"}
		default:
			a = x.contract.Publish(context.Background(), sess, room, event, []any(args[2:]))
		}
		x.reply(s, EventPublish, ack, a)
	})
	expiry := x.expireAt(s, g)
	s.OnDisconnect(func(reason string) {
		if expiry != nil {
			expiry.Stop()
		}
		x.contract.Disconnect(sess)
		if reason == slowConsumerReason {
			x.metrics.SlowConsumer()
		}
	})
}

// expireAt disconnects an authenticated socket when its token expires: it
// gets "hub:error" {op:"auth", error:"unauthorized: token expired"}, then a
// Socket.IO DISCONNECT ("io server disconnect": the client reconnects only
// after the app sets a fresh token). It returns the timer (nil when open).
func (x *SocketIO) expireAt(s *socketio.Socket, g Grants) *time.Timer {
	if x.verifier == nil || g.Expires.IsZero() {
		return nil
	}
	return time.AfterFunc(time.Until(g.Expires.Add(x.leeway)), func() {
		x.metrics.Error("auth_expired_while_connected")
		_ = s.Emit(EventError, map[string]string{"op": "auth", "error": ErrTokenExpired.Error()})
		s.Disconnect(false)
	})
}

// rateLimited answers an event over HUB_CLIENT_RATE.
var rateLimited = Ack{Error: "rate limited"}

// limiter returns a connection's event budget (nil: no limit).
func (x *SocketIO) limiter() *rate.Limiter {
	if x.clientRate <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(x.clientRate), x.clientBurst)
}

// allow spends one event of lim, counting a refusal as "rate_limited".
func (x *SocketIO) allow(lim *rate.Limiter) bool {
	if lim == nil || lim.Allow() {
		return true
	}
	x.metrics.Error("rate_limited")
	return false
}

// slowConsumerReason is engineio.ReasonSlowConsumer as socketio reports it.
const slowConsumerReason = "slow consumer"

// onRoomEvent handles an "<event>(room, ack)" event: a string room goes to
// op, anything else is answered with an error and counted as
// "<event>_bad_args".
func (x *SocketIO) onRoomEvent(s *socketio.Socket, lim *rate.Limiter, event string, op func(room string) Ack) {
	s.On(event, func(args socketio.Args, ack socketio.AckFunc) {
		room, ok := StringArg(args, 0)
		a := Ack{Error: event + "(room, ack): room must be a string"}
		if !x.allow(lim) {
			a = rateLimited
		} else if ok {
			a = op(room)
		} else {
			x.metrics.Error(event + "_bad_args")
		}
		x.reply(s, event, ack, a)
	})
}

// reply acks a contract call; without an ack callback a failure is emitted
// as EventError so that it is never silent.
func (x *SocketIO) reply(s *socketio.Socket, op string, ack socketio.AckFunc, a Ack) {
	if ack != nil {
		if err := ack(a); err != nil {
			x.log.Debug("ack failed", "sid", s.ID(), "op", op, "err", err)
		}
		return
	}
	if a.Error != "" {
		_ = s.Emit(EventError, map[string]string{"op": op, "error": a.Error})
	}
}

// member adapts *socketio.Socket to Member.
type member struct{ s *socketio.Socket }

func (m member) ID() string { return m.s.ID() }

// errGone is returned for a join racing with the socket's disconnection.
var errGone = errors.New("socket disconnected")

// Join joins room unless the socket is disconnecting. A join that races
// with the disconnection is undone, so the adapter never keeps a room
// membership for a socket whose cleanup (DelAll) already ran.
func (m member) Join(room string) error {
	if !m.s.Connected() {
		return errGone
	}
	m.s.Join(room)
	if !m.s.Connected() {
		m.s.Leave(room)
		return errGone
	}
	return nil
}

func (m member) Leave(room string) error { m.s.Leave(room); return nil }
