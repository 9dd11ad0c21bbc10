package redisadapter

import "github.com/prometheus/client_golang/prometheus"

// metrics are the adapter's Prometheus collectors.
type metrics struct {
	published      prometheus.Counter
	publishErrors  prometheus.Counter
	publishDropped prometheus.Counter
	received       prometheus.Counter
	malformed      prometheus.Counter
	reconnects     prometheus.Counter
	connected      prometheus.Gauge
	requestTimeout prometheus.Counter
	batchSize      prometheus.Histogram
}

func newMetrics() *metrics {
	const ns, sub = "hub", "redis"
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	return &metrics{
		published:      c("published_total", "Messages published to Redis."),
		publishErrors:  c("publish_errors_total", "Messages whose publish failed (Redis unreachable or erroring)."),
		publishDropped: c("publish_dropped_total", "Messages dropped because the publish queue was full."),
		received:       c("received_total", "Messages received from Redis subscriptions."),
		malformed:      c("malformed_total", "Messages from Redis ignored because they could not be decoded."),
		reconnects:     c("subscription_reconnects_total", "Times the subscription connection was lost."),
		requestTimeout: c("request_timeouts_total", "Cluster requests that timed out before every server answered."),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "subscription_up",
			Help: "1 while the Redis subscription is established, 0 while reconnecting."}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "publish_batch_size",
			Help: "Messages per publish pipeline.", Buckets: prometheus.ExponentialBuckets(1, 4, 6)}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.published, m.publishErrors, m.publishDropped, m.received, m.malformed,
		m.reconnects, m.connected, m.requestTimeout, m.batchSize}
}
