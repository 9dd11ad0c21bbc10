package main

import (
	"strings"
	"testing"
)

// pollConn is a raw Engine.IO polling session.
type pollConn struct {
	t       *testing.T
	url     string
	pending []string
}

func openPolling(t *testing.T, base string) *pollConn {
	t.Helper()
	sid := pollingSession(t, base, "/socket.io/")
	return &pollConn{t: t, url: base + "/socket.io/?EIO=4&transport=polling&sid=" + sid}
}

func (p *pollConn) send(packets ...string) {
	p.t.Helper()
	if code, body := post(p.t, p.url, strings.Join(packets, "\x1e")); code != 200 || body != "ok" {
		p.t.Fatalf("post: %d %q", code, body)
	}
}

// next returns the next Engine.IO packet, answering pings.
func (p *pollConn) next() string {
	p.t.Helper()
	for len(p.pending) == 0 {
		code, body := get(p.t, p.url)
		if code != 200 {
			p.t.Fatalf("poll: %d %q", code, body)
		}
		for _, pkt := range strings.Split(body, "\x1e") {
			if pkt == "2" {
				p.send("3")
				continue
			}
			p.pending = append(p.pending, pkt)
		}
	}
	pkt := p.pending[0]
	p.pending = p.pending[1:]
	return pkt
}

func (p *pollConn) expect(want string) {
	p.t.Helper()
	if got := p.next(); got != want {
		p.t.Fatalf("got %q, want %q", got, want)
	}
}

// expectClosed polls until the session is gone.
func (p *pollConn) expectClosed() {
	p.t.Helper()
	for {
		code, body := get(p.t, p.url)
		if code == 400 {
			return
		}
		if code != 200 {
			p.t.Fatalf("poll: %d %q", code, body)
		}
		for _, pkt := range strings.Split(body, "\x1e") {
			if pkt != "1" && pkt != "6" && pkt != "2" {
				p.t.Fatalf("unexpected packet %q while closing", pkt)
			}
		}
	}
}

// The Socket.IO checks over HTTP long-polling, binary as "b"+base64.
func TestSocketIOOverPolling(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	connect := func(t *testing.T) *pollConn {
		p := openPolling(t, base)
		p.send("40")
		if got := p.next(); !strings.HasPrefix(got, "40") {
			t.Fatalf("connect ack %q", got)
		} else {
			checkSID(t, got[2:])
		}
		p.expect(`42["auth",{}]`)
		return p
	}
	t.Run("message and ack", func(t *testing.T) {
		t.Parallel()
		p := connect(t)
		p.send(`42["message",1,"2",{"3":[true]}]`, `42456["message-with-ack",1,"2",{"3":[false]}]`)
		p.expect(`42["message-back",1,"2",{"3":[true]}]`)
		p.expect(`43456[1,"2",{"3":[false]}]`)
	})
	t.Run("binary attachments and ack", func(t *testing.T) {
		t.Parallel()
		p := connect(t)
		p.send(`452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, "bAQID", "bBAUG")
		p.expect(`452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		p.expect("bAQID")
		p.expect("bBAUG")
		p.send(`452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, "bAQID", "bBAUG")
		p.expect(`462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		p.expect("bAQID")
		p.expect("bBAUG")
	})
	t.Run("custom namespace", func(t *testing.T) {
		t.Parallel()
		p := connect(t)
		p.send(`40/custom,{"token":"abc"}`)
		if got := p.next(); !strings.HasPrefix(got, "40/custom,") {
			t.Fatalf("connect ack %q", got)
		}
		p.expect(`42/custom,["auth",{"token":"abc"}]`)
		p.send("40/random")
		p.expect(`44/random,{"message":"Invalid namespace"}`)
		p.send("41/custom", `42["message","main"]`)
		p.expect(`42["message-back","main"]`)
	})
	for name, bad := range map[string]string{
		"unknown packet type":     "4abc",
		"invalid payload":         "42{}",
		"invalid ack id":          `42abc["message-with-ack"]`,
		"event before connect ns": `42/custom,["message"]`,
	} {
		t.Run("closes on "+name, func(t *testing.T) {
			t.Parallel()
			p := connect(t)
			p.send(bad)
			p.expectClosed()
		})
	}
	t.Run("first packet must be CONNECT", func(t *testing.T) {
		t.Parallel()
		p := openPolling(t, base)
		p.send(`42["message"]`)
		p.expectClosed()
	})
}
