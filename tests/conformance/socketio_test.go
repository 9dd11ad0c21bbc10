package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The checks of the socket.io-protocol test suite (test-suite/test-suite.js),
// protocol v5 over Engine.IO v4, against /socket.io/.

// sioConn opens a websocket session and connects to the main namespace.
func sioConn(t *testing.T, base string) *wsConn {
	t.Helper()
	w := mustWS(t, base, "/socket.io/", "EIO=4&transport=websocket")
	w.expectPrefix("0")
	w.send("40")
	w.expectPrefix("40")
	w.expectText(`42["auth",{}]`)
	return w
}

func checkSID(t *testing.T, payload string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		t.Fatalf("handshake %q: %v", payload, err)
	}
	if _, ok := m["sid"].(string); !ok || len(m) != 1 {
		t.Fatalf("handshake %q: want exactly a string sid", payload)
	}
}

func TestSocketIOConnect(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	tests := []struct {
		name, send, ackPrefix, auth string
	}{
		{"main namespace", "40", "40", `42["auth",{}]`},
		{"main namespace with payload", `40{"token":"123"}`, "40", `42["auth",{"token":"123"}]`},
		{"custom namespace", "40/custom,", "40/custom,", `42/custom,["auth",{}]`},
		{"custom namespace with payload", `40/custom,{"token":"abc"}`, "40/custom,", `42/custom,["auth",{"token":"abc"}]`},
		{"auth bytes and key order kept", `40{"z":1,"a":{"y":[true,null]}}`, "40", `42["auth",{"z":1,"a":{"y":[true,null]}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := mustWS(t, base, "/socket.io/", "EIO=4&transport=websocket")
			w.expectPrefix("0")
			w.send(tt.send)
			checkSID(t, w.expectPrefix(tt.ackPrefix))
			w.expectText(tt.auth)
		})
	}
	t.Run("unknown namespace", func(t *testing.T) {
		t.Parallel()
		w := mustWS(t, base, "/socket.io/", "EIO=4&transport=websocket")
		w.expectPrefix("0")
		w.send("40/random")
		w.expectText(`44/random,{"message":"Invalid namespace"}`)
	})
	t.Run("invalid handshake", func(t *testing.T) {
		t.Parallel()
		w := mustWS(t, base, "/socket.io/", "EIO=4&transport=websocket")
		w.expectPrefix("0")
		w.send("4abc")
		w.expectClose()
	})
	t.Run("connect timeout", func(t *testing.T) {
		t.Parallel()
		// answer pings so that only the connect timeout can close it
		w := mustWS(t, base, "/socket.io/", "EIO=4&transport=websocket")
		w.expectPrefix("0")
		for {
			_, b, err := w.read(false)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					t.Fatal("not closed by the connect timeout")
				}
				return // closed
			}
			if string(b) == "2" {
				w.send("3")
			}
		}
	})
}

func TestSocketIODisconnect(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	t.Run("main namespace", func(t *testing.T) {
		t.Parallel()
		w := sioConn(t, base)
		w.send("41")
		w.expectClose()
	})
	t.Run("custom namespace then main still works", func(t *testing.T) {
		t.Parallel()
		w := sioConn(t, base)
		w.send("40/custom")
		w.expectPrefix("40/custom,")
		w.expectText(`42/custom,["auth",{}]`)
		w.send("41/custom")
		w.send(`42["message","message to main namespace"]`)
		w.expectText(`42["message-back","message to main namespace"]`)
	})
}

func TestSocketIOMessages(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	t.Run("plain text", func(t *testing.T) {
		t.Parallel()
		w := sioConn(t, base)
		w.send(`42["message",1,"2",{"3":[true]}]`)
		w.expectText(`42["message-back",1,"2",{"3":[true]}]`)
	})
	t.Run("binary attachments", func(t *testing.T) {
		t.Parallel()
		w := sioConn(t, base)
		w.send(`452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		w.sendBinary([]byte{1, 2, 3})
		w.sendBinary([]byte{4, 5, 6})
		w.expectText(`452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		w.expectBinary([]byte{1, 2, 3})
		w.expectBinary([]byte{4, 5, 6})
	})
	t.Run("ack", func(t *testing.T) {
		t.Parallel()
		w := sioConn(t, base)
		w.send(`42456["message-with-ack",1,"2",{"3":[false]}]`)
		w.expectText(`43456[1,"2",{"3":[false]}]`)
	})
	t.Run("binary ack", func(t *testing.T) {
		t.Parallel()
		w := sioConn(t, base)
		w.send(`452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		w.sendBinary([]byte{1, 2, 3})
		w.sendBinary([]byte{4, 5, 6})
		w.expectText(`462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		w.expectBinary([]byte{1, 2, 3})
		w.expectBinary([]byte{4, 5, 6})
	})
	for name, bad := range map[string]string{
		"unknown packet type":   "4abc",
		"invalid payload":       "42{}",
		"invalid ack id":        `42abc["message-with-ack",1,"2",{"3":[false]}]`,
		"reserved event":        `42["disconnect"]`,
		"too many attachments":  `4511-["message"]`,
		"empty event array":     `42[]`,
		"object event name":     `42[{}]`,
		"bad attachment count":  `45x-["message"]`,
		"truncated JSON":        `42["message"`,
		"unknown packet type 7": `47["message"]`,
		"ack not an array":      `431{"a":1}`,
	} {
		t.Run("closes on "+name, func(t *testing.T) {
			t.Parallel()
			w := sioConn(t, base)
			w.send(bad)
			w.expectClose()
		})
	}
}

func TestSocketIOPolling(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	sid := pollingSession(t, base, "/socket.io/")
	url := base + "/socket.io/?EIO=4&transport=polling&sid=" + sid
	if code, _ := post(t, url, `40/custom,{"token":"p"}`); code != 200 {
		t.Fatalf("connect: %d", code)
	}
	var got string
	for len(got) == 0 || got == "2" {
		_, got = get(t, url)
	}
	// the CONNECT ack and the auth event may come in one or two polls
	var ack, auth string
	if i := indexRS(got); i >= 0 {
		ack, auth = got[:i], got[i+1:]
	} else {
		ack = got
		_, auth = get(t, url)
	}
	if len(ack) < 10 || ack[:10] != "40/custom," {
		t.Fatalf("ack %q", ack)
	}
	checkSID(t, ack[10:])
	if auth != `42/custom,["auth",{"token":"p"}]` {
		t.Fatalf("auth %q", auth)
	}
	// a binary message with no binary packet pending is invalid: the
	// connection is closed (the held poll gets the close packet, then 400)
	post(t, url, "bAQID")
	for {
		code, body := get(t, url)
		if code == 400 {
			break
		}
		if code != 200 {
			t.Fatalf("poll after invalid binary: %d %q", code, body)
		}
		for _, pkt := range strings.Split(body, "\x1e") {
			if pkt != "1" && pkt != "2" && pkt != "6" {
				t.Fatalf("poll after invalid binary: %q", body)
			}
		}
	}
}

func indexRS(s string) int {
	for i := range len(s) {
		if s[i] == 0x1e {
			return i
		}
	}
	return -1
}
