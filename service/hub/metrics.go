package hub

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hubkit/hubkit/service/socketio"
)

// Metrics holds the hub's Prometheus collectors on their own registry (not
// the global one). Every method is safe for concurrent use and on a nil
// *Metrics (a no-op), so units can pass nil.
type Metrics struct {
	reg          *prometheus.Registry
	connections  *connCollector
	rooms        prometheus.Gauge
	messagesIn   *prometheus.CounterVec
	inClient     prometheus.Counter // messagesIn{source="client"}
	inAPI        prometheus.Counter // messagesIn{source="api"}
	messagesOut  prometheus.Counter
	acksTimedOut prometheus.Counter
	slowConsumer prometheus.Counter
	errors       *prometheus.CounterVec
	ready        prometheus.Gauge
}

// NewMetrics registers the hub's collectors, plus the Go runtime and process
// collectors, on a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		connections: &connCollector{desc: prometheus.NewDesc("hub_connections",
			"Open client connections (Engine.IO sessions) by transport.", []string{"transport"}, nil)},
		rooms: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hub_rooms",
			Help: "Rooms with at least one local member on this replica.",
		}),
		messagesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_messages_in_total",
			Help: "Messages received for delivery, by source (client publish, HTTP api).",
		}, []string{"source"}),
		messagesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hub_messages_out_total",
			Help: "Event packets written to client connections.",
		}),
		acksTimedOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hub_acks_timed_out_total",
			Help: "Server-to-client acks that did not arrive in time.",
		}),
		slowConsumer: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hub_slow_consumer_disconnects_total",
			Help: "Connections closed because their write queue was full.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_errors_total",
			Help: "Refused or failed operations by reason.",
		}, []string{"reason"}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hub_ready",
			Help: "1 while the replica accepts clients, 0 while starting or draining.",
		}),
	}
	m.reg.MustRegister(
		m.connections, m.rooms, m.messagesIn, m.messagesOut, m.acksTimedOut,
		m.slowConsumer, m.errors, m.ready,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// Expose the known label values at zero so dashboards see them at once.
	m.inClient = m.messagesIn.WithLabelValues("client")
	m.inAPI = m.messagesIn.WithLabelValues("api")
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry exposes the registry (e.g. for a Redis adapter's collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// SetRooms sets the local room count.
func (m *Metrics) SetRooms(n int) {
	if m != nil {
		m.rooms.Set(float64(n))
	}
}

func (m *Metrics) messageIn(source string) {
	if m == nil {
		return
	}
	switch source {
	case "client":
		m.inClient.Inc()
	case "api":
		m.inAPI.Inc()
	default:
		m.messagesIn.WithLabelValues(source).Inc()
	}
}

// Metrics is the Socket.IO server's observer: it counts the event packets
// written to clients and the acks that timed out.
var _ socketio.Observer = (*Metrics)(nil)

// EventWritten counts one event packet written to a client connection
// (hub_messages_out_total). It allocates nothing: it runs once per
// delivery of every fan-out.
func (m *Metrics) EventWritten() {
	if m != nil {
		m.messagesOut.Inc()
	}
}

// AckTimedOut counts a server-to-client ack that timed out
// (hub_acks_timed_out_total).
func (m *Metrics) AckTimedOut() {
	if m != nil {
		m.acksTimedOut.Inc()
	}
}

// SlowConsumer counts a slow-consumer disconnect.
func (m *Metrics) SlowConsumer() {
	if m != nil {
		m.slowConsumer.Inc()
		m.errors.WithLabelValues("slow_consumer").Inc()
	}
}

// Error counts a refused or failed operation.
func (m *Metrics) Error(reason string) {
	if m != nil {
		m.errors.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) apiError(reason string) { m.Error("api_" + reason) }

func (m *Metrics) setReady(ok bool) {
	if m != nil {
		v := 0.0
		if ok {
			v = 1
		}
		m.ready.Set(v)
	}
}

// observeConnections makes hub_connections read count at every scrape.
func (m *Metrics) observeConnections(count func() (polling, websocket int)) {
	if m != nil {
		m.connections.count.Store(&count)
	}
}

// connCollector reports hub_connections from the Engine.IO server's counts.
type connCollector struct {
	desc  *prometheus.Desc
	count atomic.Pointer[func() (polling, websocket int)]
}

func (c *connCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *connCollector) Collect(ch chan<- prometheus.Metric) {
	var p, w int
	if f := c.count.Load(); f != nil {
		p, w = (*f)()
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(p), "polling")
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(w), "websocket")
}
