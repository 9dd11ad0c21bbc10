package socketio

// Observer is told about what a Server does, for metrics. Its methods are
// called on hot paths (once per delivered packet) and concurrently: they
// must be cheap, safe for concurrent use and never block. Set it in
// Config.Observer; nil observes nothing.
type Observer interface {
	// EventWritten is called once for every EVENT or BINARY_EVENT packet
	// queued on a client connection: each target of a broadcast (local or
	// from another node), Socket.Emit, an event sent with an ack id, and
	// each missed packet replayed to a recovered socket. Packets dropped
	// because the connection is closed are not counted.
	EventWritten()
	// AckTimedOut is called once for every server→client acknowledgement
	// that did not arrive in time: a Socket.Timeout emit, each target
	// socket of a broadcast with Timeout (also when the broadcast came from
	// another node), and an EmitWithAck whose context deadline passed.
	AckTimedOut()
}

// nopObserver is the default Observer.
type nopObserver struct{}

func (nopObserver) EventWritten() {}
func (nopObserver) AckTimedOut()  {}
