package engineio

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Handshake is an immutable copy of the request that opened a session. Treat
// it as read-only: Conn.Handshake returns the same value to every caller.
type Handshake struct {
	Header     http.Header
	Query      url.Values
	RemoteAddr string    // host part of the peer address
	URL        string    // request URI
	Time       time.Time // when the session was opened
	Secure     bool      // r.TLS != nil
	XDomain    bool      // Origin header present
	Issued     int64     // Time in ms since the Unix epoch
}

func newHandshake(r *http.Request, q url.Values) *Handshake {
	now := time.Now()
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return &Handshake{
		Header:     r.Header.Clone(),
		Query:      q,
		RemoteAddr: host,
		URL:        r.RequestURI,
		Time:       now,
		Secure:     r.TLS != nil,
		XDomain:    r.Header.Get("Origin") != "",
		Issued:     now.UnixMilli(),
	}
}

// newSID returns 20 URL-safe base64 characters of crypto randomness (15
// bytes), the shape of Node engine.io's base64id.
func newSID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.URLEncoding.EncodeToString(b[:])
}

// openPacket returns the open packet's payload, with exactly Node's keys in
// Node's order.
func (s *Server) openPacket(sid string, upgrades bool) []byte {
	b := make([]byte, 0, 128)
	b = append(b, `{"sid":"`...)
	b = append(b, sid...)
	b = append(b, `","upgrades":[`...)
	if upgrades {
		b = append(b, `"websocket"`...)
	}
	b = append(b, `],"pingInterval":`...)
	b = strconv.AppendInt(b, s.cfg.PingInterval.Milliseconds(), 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, s.cfg.PingTimeout.Milliseconds(), 10)
	b = append(b, `,"maxPayload":`...)
	b = strconv.AppendInt(b, int64(s.cfg.MaxPayload), 10)
	return append(b, '}')
}
