package redisadapter

import (
	"bufio"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// offlineCluster is a Cluster whose Redis is unreachable: what the adapter
// publishes in answer to a message is counted as failed, nothing else.
func offlineCluster(t testing.TB, mode Mode) *Cluster {
	t.Helper()
	cfg := Config{Mode: mode, MinBackoff: 1, MaxBackoff: 1}
	if err := cfg.setDefaults(); err != nil {
		t.Fatal(err)
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	c := &Cluster{cfg: cfg, client: client, log: cfg.Logger, m: newMetrics(), subs: map[int]*subscriber{},
		handlers: map[string]handler{}, ready: make(chan struct{}),
		subq: make(chan subOp, 1024), stopSubq: make(chan struct{})}
	c.pub = newPublisher(client, 1024, 64, c.m, c.log)
	// subscription changes (dynamic room channels) are discarded
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for {
			select {
			case <-c.subq:
			case <-c.stopSubq:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(c.stopSubq)
		<-drained
		c.pub.close()
		_ = client.Close()
	})
	return c
}

// FuzzOnMessage feeds arbitrary payloads on every channel of a classic, a
// sharded and a streams namespace adapter (its pub/sub side, emitter
// channels included) with local sockets: no input may panic
// (bad input from Redis is dropped, never crashes the replica).
func FuzzOnMessage(f *testing.F) {
	files, _ := filepath.Glob("wire/testdata/*.txt")
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			switch {
			case strings.HasPrefix(line, "bytes: "):
				if b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimPrefix(line, "bytes: "), " ", "")); err == nil {
					f.Add(b)
				}
			case strings.HasPrefix(line, "string: "):
				f.Add([]byte(strings.TrimPrefix(line, "string: ")))
			}
		}
		_ = fh.Close()
	}
	classic := offlineCluster(f, ModeClassic)
	sharded := offlineCluster(f, ModeSharded)
	cns, sns := newFakeNS("/"), newFakeNS("/")
	ca, err := newClassic(classic, cns)
	if err != nil {
		f.Fatal(err)
	}
	sa, err := newSharded(sharded, sns)
	if err != nil {
		f.Fatal(err)
	}
	cns.ad, sns.ad = ca, sa
	stns := newFakeNS("/")
	st := offlineStreamsEmitter(f, stns)
	stns.ad = st
	for _, ns := range []*fakeNS{cns, sns, stns} {
		ns.sseAck = func(args []any) []any { return args }
		ns.connect("4I8YVTlWllZacGFnAAAA", "room1", "r2")
		ns.connect("ABCDEFGHIJKLMNOPQRST", "room9")
	}
	channels := []string{ca.channel, ca.channel + "room1#", ca.reqChannel, ca.respChannel, ca.specificResp}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, ch := range channels {
			ca.onMessage(ch, b)
		}
		sa.onMessage(sa.channel, b)
		sa.onMessage(sa.respChannel, b)
		st.resetFences()
		for _, ch := range []string{st.channel, st.respChannel, st.reqChannel} {
			st.onMessage(ch, b)
		}
		st.onPatternMessage(st.channel+"room1#", b)
	})
}
