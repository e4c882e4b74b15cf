// Package metrics exposes the bridge's counters and latencies in the
// Prometheus text format, for the people who run HTTP nodes and the
// console. It implements bridge.Events, so the service and its fronts feed
// it without knowing it exists, and wraps a bridge.Store to time
// transactions. No label carries a conversation id, a member or anything
// else unbounded: tools, outcomes, error kinds and redaction kinds are
// small fixed sets.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// Metrics holds the bridge's collectors in a registry of its own.
type Metrics struct {
	reg *prometheus.Registry

	calls       *prometheus.CounterVec
	refusals    *prometheus.CounterVec
	callLatency *prometheus.HistogramVec
	stored      prometheus.Counter
	delivered   prometheus.Counter
	redactions  *prometheus.CounterVec
	rateLimited prometheus.Counter
	wake        prometheus.Histogram
	txLatency   *prometheus.HistogramVec
}

var _ bridge.Events = (*Metrics)(nil)

// New returns a registry with the bridge's collectors and Go's runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agent_bridge_tool_calls_total", Help: "Tool calls answered, by tool and outcome (ok or refused).",
	}, []string{"tool", "outcome"})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agent_bridge_refusals_total", Help: "Refused tool calls by error kind.",
	}, []string{"kind"})
	m.callLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "agent_bridge_tool_call_seconds", Help: "Time to answer a tool call, waits included, by tool.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 5, 30, 120, 600},
	}, []string{"tool"})
	m.stored = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "agent_bridge_messages_stored_total", Help: "Messages stored (sent).",
	})
	m.delivered = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "agent_bridge_messages_delivered_total", Help: "Messages delivered by check_messages (marked read).",
	})
	m.redactions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agent_bridge_redactions_total", Help: "Secrets redacted from stored text, by kind.",
	}, []string{"kind"})
	m.rateLimited = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "agent_bridge_rate_limited_total", Help: "Calls refused by a stored rate limit.",
	})
	m.wake = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "agent_bridge_wake_seconds", Help: "From a message being stored to a waiting check_messages taking it.",
		Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .5, 2, 10},
	})
	m.txLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "agent_bridge_store_transaction_seconds", Help: "Store transactions, begin to commit, by kind (read or write).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .1, .5, 2, 10},
	}, []string{"kind"})
	for _, c := range []prometheus.Collector{m.calls, m.refusals, m.callLatency, m.stored, m.delivered, m.redactions, m.rateLimited, m.wake, m.txLatency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	return m
}

// WatchWaiters exports n() as the number of check_messages calls waiting.
func (m *Metrics) WatchWaiters(n func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "agent_bridge_waiters", Help: "check_messages calls of this process waiting for a message.",
	}, func() float64 { return float64(n()) }))
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ToolCall implements bridge.Events.
func (m *Metrics) ToolCall(tool, outcome string, kind bridge.ErrorKind, d time.Duration) {
	m.calls.WithLabelValues(tool, outcome).Inc()
	if outcome == bridge.OutcomeRefused {
		m.refusals.WithLabelValues(string(kind)).Inc()
	}
	m.callLatency.WithLabelValues(tool).Observe(d.Seconds())
}

// MessagesStored implements bridge.Events.
func (m *Metrics) MessagesStored(n int) { m.stored.Add(float64(n)) }

// MessagesDelivered implements bridge.Events.
func (m *Metrics) MessagesDelivered(n int) { m.delivered.Add(float64(n)) }

// Redacted implements bridge.Events.
func (m *Metrics) Redacted(kind string, n int) { m.redactions.WithLabelValues(kind).Add(float64(n)) }

// RateLimited implements bridge.Events.
func (m *Metrics) RateLimited() { m.rateLimited.Inc() }

// Woke implements bridge.Events.
func (m *Metrics) Woke(d time.Duration) { m.wake.Observe(d.Seconds()) }

// Store returns st with its transactions timed.
func (m *Metrics) Store(st bridge.Store) bridge.Store { return timedStore{st, m} }

type timedStore struct {
	bridge.Store
	m *Metrics
}

func (s timedStore) Update(ctx context.Context, fn func(bridge.Tx) error, opts ...bridge.UpdateOption) error {
	defer s.m.observeTx("write", time.Now())
	return s.Store.Update(ctx, fn, opts...)
}

func (s timedStore) View(ctx context.Context, fn func(bridge.Tx) error) error {
	defer s.m.observeTx("read", time.Now())
	return s.Store.View(ctx, fn)
}

func (m *Metrics) observeTx(kind string, start time.Time) {
	m.txLatency.WithLabelValues(kind).Observe(time.Since(start).Seconds())
}
