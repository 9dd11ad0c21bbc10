package redisadapter

import (
	"sync"
	"time"

	"github.com/hubkit/hubkit/service/redisadapter/wire"
)

// liveSessions keeps the sessions of connected sockets in Redis (see
// TrackSession), so that a replica that dies without persisting anything
// leaves its clients recoverable. Each tracked session is written on every
// room change and refreshed every window/4 with a TTL of 1.5 windows.
type liveSessions struct {
	a *streamsAdapter

	mu   sync.Mutex
	m    map[string]*liveSession // by socket id
	stop chan struct{}
	once sync.Once
	run  sync.Once
}

type liveSession struct {
	pid       string
	data      any
	persisted bool // PersistSession wrote the final state
}

func (l *liveSessions) init(a *streamsAdapter) {
	l.a = a
	l.m = map[string]*liveSession{}
	l.stop = make(chan struct{})
}

func (l *liveSessions) ttl() time.Duration { return l.a.window * 3 / 2 }

// refreshEvery is how often every tracked session is written again.
func (l *liveSessions) refreshEvery() time.Duration { return max(l.a.window/4, time.Second) }

// TrackSession keeps the session of the connected socket sid (private id
// pid, data) in Redis while it is connected, under the key that
// RestoreSession reads (sio:session:<pid>): its rooms are written on every
// change and refreshed periodically. If this replica dies, the client can
// recover on any other replica, Node ones included, for at least the
// recovery window. Call it from the connection handler; a no-op when
// recovery is off.
func (a *streamsAdapter) TrackSession(sid, pid string, data any) {
	if a.window <= 0 || pid == "" {
		return
	}
	l := &a.live
	l.mu.Lock()
	l.m[sid] = &liveSession{pid: pid, data: data}
	l.mu.Unlock()
	l.run.Do(func() { a.c.goTracked(l.refreshLoop) })
	l.changed(sid)
}

// changed queues a write of sid's session if it is tracked. The value is
// computed when the write runs, from the rooms at that time.
func (l *liveSessions) changed(sid string) {
	l.mu.Lock()
	ls := l.m[sid]
	l.mu.Unlock()
	if ls == nil {
		return
	}
	l.write(sid, ls.pid)
}

func (l *liveSessions) write(sid, pid string) {
	l.a.core.enqueue(streamOp{key: wire.DefaultSessionKeyPrefix + pid, ttl: l.ttl(), value: func() (string, bool) {
		l.mu.Lock()
		ls := l.m[sid]
		l.mu.Unlock()
		if ls == nil || ls.persisted {
			return "", false
		}
		rooms := l.a.Memory.SocketRooms(sid)
		if rooms == nil {
			return "", false
		}
		return l.a.encodeSession(sid, ls.pid, rooms, ls.data), true
	}})
}

// persisted records that PersistSession stored sid's final session.
func (l *liveSessions) persisted(sid string) {
	l.mu.Lock()
	if ls := l.m[sid]; ls != nil {
		ls.persisted = true
	}
	l.mu.Unlock()
}

// gone forgets sid; its session is deleted unless PersistSession stored it
// (a disconnection that is not recoverable).
func (l *liveSessions) gone(sid string) {
	l.mu.Lock()
	ls := l.m[sid]
	delete(l.m, sid)
	l.mu.Unlock()
	if ls != nil && !ls.persisted {
		l.a.core.enqueue(streamOp{key: wire.DefaultSessionKeyPrefix + ls.pid, del: true})
	}
}

func (l *liveSessions) refreshLoop() {
	t := time.NewTicker(l.refreshEvery())
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-l.stop:
			return
		case <-l.a.c.stopSubq:
			return
		}
		l.mu.Lock()
		type pair struct{ sid, pid string }
		all := make([]pair, 0, len(l.m))
		for sid, ls := range l.m {
			if !ls.persisted {
				all = append(all, pair{sid, ls.pid})
			}
		}
		l.mu.Unlock()
		for _, p := range all {
			l.write(p.sid, p.pid)
		}
	}
}

func (l *liveSessions) stopRefresh() { l.once.Do(func() { close(l.stop) }) }
