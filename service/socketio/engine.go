//go:build !socketio_noengine

package socketio

import (
	"github.com/hubkit/hubkit/service/engineio"
	"github.com/hubkit/hubkit/service/socketio/parser"
)

// New returns a Server for cfg, serving Engine.IO under cfg.Path.
func New(cfg Config) (*Server, error) {
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	eng, err := engineio.NewServer(engineio.Config{
		PingInterval:    s.cfg.PingInterval,
		PingTimeout:     s.cfg.PingTimeout,
		UpgradeTimeout:  s.cfg.UpgradeTimeout,
		MaxPayload:      s.cfg.MaxPayload,
		Transports:      s.cfg.Transports,
		DisableUpgrades: s.cfg.DisableUpgrades,
		AllowedOrigins:  s.cfg.AllowedOrigins,
		WriteQueueSize:  s.cfg.WriteQueueSize,
		Logger:          s.cfg.Logger,
		OnConnection:    s.onEngineConnection,
	})
	if err != nil {
		return nil, err
	}
	s.engine = eng
	return s, nil
}

// EngineCount returns the number of Engine.IO sessions per transport.
func (s *Server) EngineCount() (polling, websocket int) {
	if e, ok := s.engine.(*engineio.Server); ok {
		return e.Count()
	}
	return 0, 0
}

func (s *Server) onEngineConnection(c *engineio.Conn) engineio.ConnHandler {
	h := c.Handshake()
	hs := Handshake{
		Header:  h.Header,
		Time:    h.Time,
		Address: h.RemoteAddr,
		XDomain: h.XDomain,
		Secure:  h.Secure,
		Issued:  h.Issued,
		URL:     h.URL,
		Query:   h.Query,
	}
	cl := s.newClient(engineConnAdapter{c}, hs)
	if !s.track(cl) {
		c.CloseWithReason(engineio.ReasonServerShuttingDown)
	}
	return engineHandler{cl}
}

// engineConnAdapter adapts *engineio.Conn to engineConn.
type engineConnAdapter struct{ c *engineio.Conn }

func (a engineConnAdapter) ID() string               { return a.c.ID() }
func (a engineConnAdapter) Transport() string        { return a.c.Transport() }
func (a engineConnAdapter) CloseWithReason(r string) { a.c.CloseWithReason(r) }

func (a engineConnAdapter) Send(frames []parser.Frame) error {
	if len(frames) == 1 {
		return a.c.Send(engineio.Message{Data: frames[0].Data, Binary: frames[0].Binary})
	}
	msgs := make([]engineio.Message, len(frames))
	for i, f := range frames {
		msgs[i] = engineio.Message{Data: f.Data, Binary: f.Binary}
	}
	return a.c.Send(msgs...)
}

// engineHandler adapts client to engineio.ConnHandler.
type engineHandler struct{ c *client }

func (h engineHandler) OnMessage(m engineio.Message) {
	h.c.onFrame(parser.Frame{Data: m.Data, Binary: m.Binary})
}

func (h engineHandler) OnClose(reason string) { h.c.onClose(reason) }
