package e2e

import (
	"testing"
)

type mode struct {
	name       string
	transports []string // server side
	client     string   // client.js transport mode
}

var modes = []mode{
	{"websocket-only", []string{"websocket"}, "websocket"},
	{"polling-only", []string{"polling"}, "polling"},
	{"polling-upgrade", nil, "upgrade"},
}

// each runs f for every backend × transport mode as parallel subtests.
func each(t *testing.T, f func(t *testing.T, b backend, m mode)) {
	for _, b := range backends {
		for _, m := range modes {
			t.Run(b.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				f(t, b, m)
			})
		}
	}
}

func TestTransports(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b backend, m mode) {
		url := b.start(t, m.transports, false, "127.0.0.1:0").url
		c := runClient(t, "echo", url, m.client)
		c.expect(`{"event":"echo-back","args":[1,"two",{"three":[3],"é":null}]}`)
		want := m.client
		if want == "upgrade" {
			want = "websocket"
		}
		c.expect(`{"event":"transport","client":"` + want + `","server":"` + want + `"}`)
		c.finish()
	})
}

func TestBinary(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b backend, m mode) {
		url := b.start(t, m.transports, false, "127.0.0.1:0").url
		c := runClient(t, "binary", url, m.client)
		c.expect(`{"event":"echo-back","top":"AQID","nested":"BAU=","n":1}`)
		c.expect(`{"event":"bin","data":"ChQe"}`)         // 10,20,30
		c.expect(`{"event":"bin-ack-was","data":"HhQK"}`) // reversed by the client
		c.finish()
	})
}

func TestAcks(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b backend, m mode) {
		url := b.start(t, m.transports, false, "127.0.0.1:0").url
		c := runClient(t, "acks", url, m.client)
		// emitWithAck resolves with the first ack argument
		c.expect(`{"event":"ack","args":"x"}`)
		c.expect(`{"event":"client-timeout","message":"operation has timed out"}`)
		c.expect(`{"event":"answer-was","value":"answer:q1"}`)
		c.expect(`{"event":"server-timeout","message":"operation has timed out"}`)
		c.finish()
	})
}

func TestNamespaces(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			testNamespaces(t, b)
		})
	}
}

func testNamespaces(t *testing.T, b backend) {
	url := b.start(t, nil, false, "127.0.0.1:0").url
	c := runClient(t, "namespaces", url, "websocket")
	c.expect(`{"event":"welcome","nsp":"/custom","value":"/custom","sameEngine":true}`)
	c.expect(`{"event":"echo-back","nsp":"/custom","args":["/custom"]}`)
	c.expect(`{"event":"welcome","nsp":"/dyn-42","value":"/dyn-42","sameEngine":true}`)
	c.expect(`{"event":"echo-back","nsp":"/dyn-42","args":["/dyn-42"]}`)
	c.expect(`{"event":"connect_error","nsp":"/nope","message":"Invalid namespace"}`)
	c.finish()
}

func TestMiddlewareRejection(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b backend, m mode) {
		url := b.start(t, m.transports, false, "127.0.0.1:0").url
		c := runClient(t, "reject", url, m.client)
		c.expect(`{"event":"connect_error","message":"not authorized","data":{"code":403,"reason":"bad token"}}`)
		c.expect(`{"event":"connect","nsp":"/private"}`)
		c.finish()
	})
}

func TestReconnectAfterRestart(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b backend, m mode) {
		srv := b.start(t, m.transports, false, "127.0.0.1:0")
		url, stop := srv.url, srv.stop
		c := runClient(t, "reconnect", url, m.client)
		c.expect(`{"event":"connect","n":1,"ack":1}`)
		stop()
		got := c.next()
		// the server closed the transport (websocket close or polling
		// close packet), which the client reports as one of these
		if r := got["reason"]; got["event"] != "disconnect" || (r != "transport close" && r != "transport error" && r != "io server disconnect") {
			t.Fatalf("want disconnect, got %v", got)
		}
		t.Logf("client disconnect reason: %v", got["reason"])
		// a new server on the same port
		b.start(t, m.transports, false, url[len("http://"):])
		c.expect(`{"event":"connect","n":2,"ack":2}`)
		c.finish()
	})
}

func TestRoomsAndBroadcastAcks(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b backend, m mode) {
		url := b.start(t, m.transports, false, "127.0.0.1:0").url
		c := runClient(t, "rooms", url, m.client)
		c.expect(`{"event":"join","alice":{"ok":true},"bob":{"ok":true}}`)
		c.expect(`{"event":"poll-result","result":{"votes":["alice votes on lunch?","bob votes on lunch?"]}}`)
		c.expect(`{"event":"seen","seen":["bob:hi","carol:outside"]}`)
		c.finish()
	})
}

func TestConnectionStateRecovery(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, b backend, m mode) {
		srv := b.start(t, m.transports, true, "127.0.0.1:0")
		c := runClient(t, "recovery", srv.url, m.client)
		c.expect(`{"event":"connect","n":1,"recovered":false,"join":{"ok":true}}`)
		c.expect(`{"event":"echo-back","value":"first"}`)
		got := c.next()
		if got["event"] != "disconnect" {
			t.Fatalf("want disconnect, got %v", got)
		}
		// broadcast while the client is away
		srv.emit("lobby", "said", "while-away")
		// replayed before the CONNECT ack; the client buffers it until connected
		c.expect(`{"event":"said","text":"while-away","connected":true}`)
		c.expect(`{"event":"connect","n":2,"recovered":true,"sameId":true}`)
		c.finish()
	})
}
