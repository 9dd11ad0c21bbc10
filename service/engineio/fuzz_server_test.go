package engineio

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fuzzHandler counts what one session delivered.
type fuzzHandler struct {
	mu     sync.Mutex
	msgs   int
	reason string
	closes int
}

func (h *fuzzHandler) OnMessage(Message) { h.mu.Lock(); h.msgs++; h.mu.Unlock() }
func (h *fuzzHandler) OnClose(r string) {
	h.mu.Lock()
	h.reason = r
	h.closes++
	h.mu.Unlock()
}

// FuzzPollingPost feeds arbitrary POST bodies to a live polling session
// through the whole server (ServeHTTP) and checks that it never panics, that
// the status is one Node's server could give, and that the session ends up
// as the packets say: open after messages only, closed with "transport
// close" after a "1", with "transport error" after a client ping, with
// "parse error" after an undecodable packet.
func FuzzPollingPost(f *testing.F) {
	for _, s := range append(append([]string(nil), realPayloads...), realPackets...) {
		f.Add([]byte(s))
	}
	f.Add([]byte(""))
	f.Add([]byte("\x1e\x1e"))
	f.Add([]byte("4a\x1e1\x1e9"))
	f.Add([]byte("b====\x1e4"))
	const maxPayload = 4096
	var mu sync.Mutex
	handlers := map[string]*fuzzHandler{}
	srv, err := NewServer(Config{MaxPayload: maxPayload, OnConnection: func(c *Conn) ConnHandler {
		h := &fuzzHandler{}
		mu.Lock()
		handlers[c.ID()] = h
		mu.Unlock()
		return h
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		for _, c := range srv.Sessions() {
			c.closeNow(ReasonForcedClose)
		}
	})
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, testPath+"?EIO=4&transport=polling", nil))
		sid := rec.Body.String()[9:29]
		mu.Lock()
		h := handlers[sid]
		delete(handlers, sid)
		mu.Unlock()

		rec = httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, testPath+"?EIO=4&transport=polling&sid="+sid, bytes.NewReader(body))
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		srv.ServeHTTP(rec, req)

		// What the packets say should happen.
		wantMsgs, wantReason, wantStatus := 0, "", http.StatusOK
		decErr := decodePayload(body, func(p packet) bool {
			switch p.typ {
			case packetMessage:
				wantMsgs++
			case packetClose:
				wantReason = ReasonTransportClose
				return false
			case packetPing:
				wantReason, wantStatus = ReasonTransportError, http.StatusBadRequest
				return false
			}
			return true
		})
		if decErr != nil && wantReason == "" {
			wantReason, wantStatus = ReasonParseError, http.StatusBadRequest
		}
		if len(body) > maxPayload {
			wantMsgs, wantReason, wantStatus = 0, ReasonTransportError, http.StatusRequestEntityTooLarge
		}

		h.mu.Lock()
		msgs, reason, closes := h.msgs, h.reason, h.closes
		h.mu.Unlock()
		if rec.Code != wantStatus {
			t.Errorf("status %d, want %d", rec.Code, wantStatus)
		}
		if wantStatus == http.StatusOK && rec.Body.String() != "ok" {
			t.Errorf("body %q", rec.Body.String())
		}
		if msgs != wantMsgs || reason != wantReason {
			t.Errorf("delivered %d messages, closed %q; want %d, %q", msgs, reason, wantMsgs, wantReason)
		}
		if closes > 1 {
			t.Errorf("OnClose called %d times", closes)
		}
		if c := srv.lookup(sid); c != nil {
			if wantReason != "" {
				t.Errorf("session still registered after %q", wantReason)
			}
			c.closeNow(ReasonForcedClose)
		}
		if strings.Contains(rec.Body.String(), "panic") {
			t.Errorf("body %q", rec.Body.String())
		}
	})
}
