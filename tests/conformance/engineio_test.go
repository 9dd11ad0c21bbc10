package main

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// The checks of the engine.io-protocol test suite (test-suite/test-suite.js),
// protocol v4, against the /engine.io/ echo server (and the handshake checks
// against /socket.io/ too, as the socket.io-protocol suite does).

func TestEngineIOHandshake(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	for _, path := range []string{"/engine.io/", "/socket.io/"} {
		t.Run(path, func(t *testing.T) {
			code, body := get(t, base+path+"?EIO=4&transport=polling")
			if code != 200 {
				t.Fatalf("status %d", code)
			}
			if o := parseOpen(t, body); len(o.Upgrades) != 1 || o.Upgrades[0] != "websocket" {
				t.Fatalf("upgrades %v", o.Upgrades)
			}
			for _, q := range []string{"transport=polling", "EIO=abc&transport=polling", "EIO=4", "EIO=4&transport=abc"} {
				if code, _ := get(t, base+path+"?"+q); code != 400 {
					t.Fatalf("%s: status %d", q, code)
				}
			}
			for _, m := range []string{"POST", "PUT"} {
				if code, _ := do(t, m, base+path+"?EIO=4&transport=polling", ""); code != 400 {
					t.Fatalf("%s handshake: status %d", m, code)
				}
			}
			w := mustWS(t, base, path, "EIO=4&transport=websocket")
			_, b, err := w.read(false)
			if err != nil {
				t.Fatal(err)
			}
			if o := parseOpen(t, string(b)); len(o.Upgrades) != 0 {
				t.Fatalf("websocket upgrades %v", o.Upgrades)
			}
			// refused, or (Node for a missing EIO) accepted then closed
			// without an open packet; the reference suite waits for "close"
			for _, q := range []string{"transport=websocket", "EIO=abc&transport=websocket", "EIO=4", "EIO=4&transport=abc"} {
				if w, err := dialWS(t, base, path, q); err == nil {
					if _, b, err := w.read(false); err == nil {
						t.Fatalf("%s: websocket open, got %q", q, b)
					}
				}
			}
		})
	}
}

func TestEngineIOPollingMessages(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	for _, body := range []string{"4hello", "4test1\x1e4test2\x1e4test3", "4hello\x1ebAQIDBA=="} {
		sid := pollingSession(t, base, "/engine.io/")
		url := base + "/engine.io/?EIO=4&transport=polling&sid=" + sid
		if code, res := post(t, url, body); code != 200 || res != "ok" {
			t.Fatalf("post %q: %d %q", body, code, res)
		}
		if code, res := get(t, url); code != 200 || res != body {
			t.Fatalf("poll: %d %q, want %q", code, res, body)
		}
	}
}

func TestEngineIOPollingInvalidPacket(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	sid := pollingSession(t, base, "/engine.io/")
	url := base + "/engine.io/?EIO=4&transport=polling&sid=" + sid
	// The reference suite expects 400 when a response arrives at all, but
	// Node 6.6 itself answers 200 "ok" (or aborts): what matters is that
	// the session is gone afterwards.
	if code, ok := tryPost(url, "abc"); ok && code != 400 && code != 200 {
		t.Fatalf("invalid packet: status %d", code)
	}
	if code, _ := get(t, url); code != 400 {
		t.Fatalf("poll after invalid packet: status %d", code)
	}
}

func TestEngineIODuplicatePoll(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	sid := pollingSession(t, base, "/engine.io/")
	url := base + "/engine.io/?EIO=4&transport=polling&sid=" + sid
	var wg sync.WaitGroup
	var firstCode int
	var firstBody string
	wg.Add(1)
	go func() {
		defer wg.Done()
		firstCode, firstBody = get(t, url)
	}()
	time.Sleep(20 * time.Millisecond) // let the first poll be held (as the suite's sleep(5))
	code, _ := get(t, url+"&t=burst")
	wg.Wait()
	if firstCode != 200 || firstBody != "1" {
		t.Fatalf("first poll: %d %q", firstCode, firstBody)
	}
	if code != 400 && code != 500 {
		t.Fatalf("duplicate poll: status %d", code)
	}
	if code, _ := get(t, url); code != 400 {
		t.Fatalf("poll after duplicate: status %d", code)
	}
}

func TestEngineIOWebSocketMessages(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	w := mustWS(t, base, "/engine.io/", "EIO=4&transport=websocket")
	w.expectPrefix("0")
	w.send("4hello")
	w.expectText("4hello")
	w.sendBinary([]byte{1, 2, 3, 4})
	w.expectBinary([]byte{1, 2, 3, 4})
	w.send("abc")
	w.expectClose()
}

func TestEngineIOHeartbeat(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	t.Run("polling", func(t *testing.T) {
		t.Parallel()
		sid := pollingSession(t, base, "/engine.io/")
		url := base + "/engine.io/?EIO=4&transport=polling&sid=" + sid
		for range 3 {
			if code, body := get(t, url); code != 200 || body != "2" {
				t.Fatalf("poll: %d %q, want ping", code, body)
			}
			if code, body := post(t, url, "3"); code != 200 || body != "ok" {
				t.Fatalf("pong: %d %q", code, body)
			}
		}
		// stop answering: the session must end (pings keep coming until then)
		deadline := time.Now().Add(5 * time.Second)
		for {
			code, body := get(t, url)
			if code == 400 {
				break
			}
			// a poll held when the timeout fires gets the close packet
			if code != 200 || (body != "2" && body != "1") || time.Now().After(deadline) {
				t.Fatalf("poll without pong: %d %q", code, body)
			}
		}
	})
	t.Run("websocket", func(t *testing.T) {
		t.Parallel()
		w := mustWS(t, base, "/engine.io/", "EIO=4&transport=websocket")
		w.expectPrefix("0")
		for range 3 {
			_, b, err := w.read(false)
			if err != nil || string(b) != "2" {
				t.Fatalf("want ping, got %q %v", b, err)
			}
			w.send("3")
		}
		w.expectClose() // no more pongs: ping timeout
	})
}

func TestEngineIOClose(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	t.Run("polling", func(t *testing.T) {
		t.Parallel()
		sid := pollingSession(t, base, "/engine.io/")
		url := base + "/engine.io/?EIO=4&transport=polling&sid=" + sid
		var wg sync.WaitGroup
		var code int
		var body string
		wg.Add(1)
		go func() { defer wg.Done(); code, body = get(t, url) }()
		time.Sleep(20 * time.Millisecond)
		if c, _ := post(t, url, "1"); c != 200 {
			t.Fatalf("close post: %d", c)
		}
		wg.Wait()
		if code != 200 || body != "6" {
			t.Fatalf("pending poll: %d %q", code, body)
		}
		if c, _ := get(t, url); c != 400 {
			t.Fatalf("poll after close: %d", c)
		}
	})
	t.Run("websocket", func(t *testing.T) {
		t.Parallel()
		w := mustWS(t, base, "/engine.io/", "EIO=4&transport=websocket")
		w.expectPrefix("0")
		w.send("1")
		w.expectClose()
	})
}

func TestEngineIOUpgrade(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	sid := pollingSession(t, base, "/engine.io/")
	url := base + "/engine.io/?EIO=4&transport=polling&sid=" + sid
	w := mustWS(t, base, "/engine.io/", "EIO=4&transport=websocket&sid="+sid)
	w.send("2probe")
	w.expectText("3probe")
	if code, body := get(t, url); code != 200 || body != "6" {
		t.Fatalf("poll during probe: %d %q", code, body)
	}
	w.send("5")
	w.send("4hello")
	w.expectText("4hello")
	if code, _ := get(t, url); code != 400 {
		t.Fatalf("poll after upgrade: %d", code)
	}
	w2, err := dialWS(t, base, "/engine.io/", "EIO=4&transport=websocket&sid="+sid)
	if err == nil {
		if _, b, err := w2.read(true); err == nil && !strings.HasPrefix(string(b), "") {
			t.Fatalf("second websocket got %q", b)
		}
		w2.expectClose()
	}
	w.send("4still")
	w.expectText("4still")
}
