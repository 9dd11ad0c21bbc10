package e2e

import (
	"testing"

	"github.com/hubkit/hubkit/service/socketio"
)

var modes = []struct {
	name       string
	transports []string // server side
	client     string   // client.js transport mode
}{
	{"websocket-only", []string{"websocket"}, "websocket"},
	{"polling-only", []string{"polling"}, "polling"},
	{"polling-upgrade", nil, "upgrade"},
}

func TestTransports(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			url, _ := serve(t, newHub(t, m.transports), "127.0.0.1:0")
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
}

func TestBinary(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			url, _ := serve(t, newHub(t, m.transports), "127.0.0.1:0")
			c := runClient(t, "binary", url, m.client)
			c.expect(`{"event":"echo-back","top":"AQID","nested":"BAU=","n":1}`)
			c.expect(`{"event":"bin","data":"ChQe"}`)         // 10,20,30
			c.expect(`{"event":"bin-ack-was","data":"HhQK"}`) // reversed by the client
			c.finish()
		})
	}
}

func TestAcks(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			url, _ := serve(t, newHub(t, m.transports), "127.0.0.1:0")
			c := runClient(t, "acks", url, m.client)
			// emitWithAck resolves with the first ack argument
			c.expect(`{"event":"ack","args":"x"}`)
			c.expect(`{"event":"client-timeout","message":"operation has timed out"}`)
			c.expect(`{"event":"answer-was","value":"answer:q1"}`)
			c.expect(`{"event":"server-timeout","message":"operation has timed out"}`)
			c.finish()
		})
	}
}

func TestNamespaces(t *testing.T) {
	t.Parallel()
	url, _ := serve(t, newHub(t, nil), "127.0.0.1:0")
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
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			url, _ := serve(t, newHub(t, m.transports), "127.0.0.1:0")
			c := runClient(t, "reject", url, m.client)
			c.expect(`{"event":"connect_error","message":"not authorized","data":{"code":403,"reason":"bad token"}}`)
			c.expect(`{"event":"connect","nsp":"/private"}`)
			c.finish()
		})
	}
}

func TestReconnectAfterRestart(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			url, stop := serve(t, newHub(t, m.transports), "127.0.0.1:0")
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
			serve(t, newHub(t, m.transports), url[len("http://"):])
			c.expect(`{"event":"connect","n":2,"ack":2}`)
			c.finish()
		})
	}
}

func TestRoomsAndBroadcastAcks(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			url, _ := serve(t, newHub(t, m.transports), "127.0.0.1:0")
			c := runClient(t, "rooms", url, m.client)
			c.expect(`{"event":"join","alice":{"ok":true},"bob":{"ok":true}}`)
			c.expect(`{"event":"poll-result","result":{"votes":["alice votes on lunch?","bob votes on lunch?"]}}`)
			c.expect(`{"event":"seen","seen":["bob:hi","carol:outside"]}`)
			c.finish()
		})
	}
}

func TestConnectionStateRecovery(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			srv := newHubWith(t, socketio.Config{Transports: m.transports, Recovery: &socketio.RecoveryConfig{}})
			url, _ := serve(t, srv, "127.0.0.1:0")
			c := runClient(t, "recovery", url, m.client)
			c.expect(`{"event":"connect","n":1,"recovered":false,"join":{"ok":true}}`)
			c.expect(`{"event":"echo-back","value":"first"}`)
			got := c.next()
			if got["event"] != "disconnect" {
				t.Fatalf("want disconnect, got %v", got)
			}
			// broadcast while the client is away
			if err := srv.To("lobby").Emit("said", "while-away"); err != nil {
				t.Fatal(err)
			}
			// replayed before the CONNECT ack; the client buffers it until connected
			c.expect(`{"event":"said","text":"while-away","connected":true}`)
			c.expect(`{"event":"connect","n":2,"recovered":true,"sameId":true}`)
			c.finish()
		})
	}
}
