package socketio

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hubkit/hubkit/service/adapter"
)

// DefaultMaxDisconnectionDuration is how long a disconnected session stays
// recoverable when RecoveryConfig leaves it zero (Node's default).
const DefaultMaxDisconnectionDuration = 2 * time.Minute

// RecoveryConfig enables connection state recovery (Node's
// connectionStateRecovery option): a client that lost its transport and
// reconnects within MaxDisconnectionDuration gets back its socket id, rooms
// and data, and the events broadcast to it meanwhile.
//
// It needs an adapter implementing adapter.SessionStore; with the default
// (nil) Config.Adapter, New uses an in-memory adapter with recovery on.
type RecoveryConfig struct {
	// MaxDisconnectionDuration defaults to 2 minutes.
	MaxDisconnectionDuration time.Duration
	// RunMiddlewares runs the middleware for recovered sockets too (Node's
	// skipMiddlewares: false). Default false: they are skipped.
	RunMiddlewares bool
	// MaxPackets bounds the default in-memory adapter's packet log. Zero
	// means adapter.DefaultRecoveryMaxPackets.
	MaxPackets int
}

// recoverable are the disconnect reasons after which a session is kept.
var recoverable = map[string]bool{
	ReasonTransportError:     true,
	ReasonTransportClose:     true,
	ReasonForcedClose:        true,
	ReasonPingTimeout:        true,
	ReasonServerShuttingDown: true,
	ReasonForcedServerClose:  true,
}

const sessionStoreTimeout = 5 * time.Second

// Recovered reports whether the socket is a recovered session.
func (s *Socket) Recovered() bool { return s.recovered }

func (n *Namespace) sessionStore() adapter.SessionStore {
	if n.srv.cfg.Recovery == nil {
		return nil
	}
	ss, _ := n.adapter.(adapter.SessionStore)
	return ss
}

// restore returns the session named by the CONNECT auth's pid and offset.
func (n *Namespace) restore(auth json.RawMessage) *adapter.Session {
	ss := n.sessionStore()
	if ss == nil || len(auth) == 0 {
		return nil
	}
	var a struct {
		PID    string `json:"pid"`
		Offset string `json:"offset"`
	}
	if json.Unmarshal(auth, &a) != nil || a.PID == "" || a.Offset == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), sessionStoreTimeout)
	defer cancel()
	sess, err := ss.RestoreSession(ctx, a.PID, a.Offset)
	if err != nil {
		n.srv.log.Warn("socketio: restore session", "nsp", n.name, "err", err)
		return nil
	}
	return sess
}

// sessionTracker is an optional adapter capability: an adapter that keeps
// the sessions of connected sockets (so that they can be recovered even
// when this process dies without persisting them) is told about each one.
type sessionTracker interface {
	TrackSession(sid, pid string, data any)
}

// track hands a connected socket's session to a sessionTracker adapter.
func (n *Namespace) track(s *Socket) {
	if t, ok := n.adapter.(sessionTracker); ok && s.pid != "" && n.sessionStore() != nil {
		t.TrackSession(s.id, s.pid, s.Data())
	}
}

// persist keeps s's session when it closed for a recoverable reason.
func (s *Socket) persist(reason string) {
	ss := s.nsp.sessionStore()
	if ss == nil || !recoverable[reason] {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), sessionStoreTimeout)
	defer cancel()
	err := ss.PersistSession(ctx, &adapter.Session{SID: s.id, PID: s.pid, Rooms: s.Rooms(), Data: s.Data()})
	if err != nil {
		s.nsp.srv.log.Warn("socketio: persist session", "nsp", s.nsp.name, "err", err)
	}
}
