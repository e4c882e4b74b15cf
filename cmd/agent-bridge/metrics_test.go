package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client/transport"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// An HTTP node serves Prometheus metrics behind its bearer; they parse as
// the text format and move when agents send and read.
func TestHTTPMetrics(t *testing.T) {
	const secret = "metrics-bearer-secret-0123456789abcdef"
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, storeKind{"sqlite", []string{"--db", filepath.Join(dir, "b.db")}}, "--http-token-file", tokenFile)
	metricsURL := strings.TrimSuffix(n.url, "/mcp") + "/metrics"

	scrape := func() map[string]*dto.MetricFamily {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, metricsURL, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %d", res.StatusCode)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(res.Body)
		if err != nil {
			t.Fatalf("/metrics does not parse as the Prometheus text format: %v", err)
		}
		return fams
	}
	value := func(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
		f := fams[name]
		if f == nil {
			return 0
		}
	next:
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
		return 0
	}

	res, err := http.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/metrics without the bearer: %d", res.StatusCode)
	}

	before := scrape()
	p := n.dial(transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + secret}))
	a, b := create(p)
	for i := 0; i < 3; i++ {
		p.ok("send_to_partner", a.args(map[string]any{"message": "token ghp_Zx8vQ2mN4kL7pR9sT1uW3yA5bC6dE8fG0hJ2 here"}))
	}
	p.ok("check_messages", b.args(nil))
	p.call("check_messages", b.args(map[string]any{"token": a.token})) // refused
	after := scrape()

	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"agent_bridge_messages_stored_total", nil, 3},
		{"agent_bridge_messages_delivered_total", nil, 3},
		{"agent_bridge_tool_calls_total", map[string]string{"tool": "send_to_partner", "outcome": "ok"}, 3},
		{"agent_bridge_refusals_total", map[string]string{"kind": "unauthorized"}, 1},
		{"agent_bridge_tool_call_seconds", map[string]string{"tool": "check_messages"}, 2},
		{"agent_bridge_store_transaction_seconds", map[string]string{"kind": "write"}, 5},
	} {
		if got := value(after, c.name, c.labels) - value(before, c.name, c.labels); got < c.want {
			t.Errorf("%s%v moved by %v, want at least %v", c.name, c.labels, got, c.want)
		}
	}
	if got := value(after, "agent_bridge_redactions_total", nil); got < 3 {
		t.Errorf("redactions: %v, want 3", got)
	}
	for name, f := range after {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if strings.HasPrefix(l.GetValue(), "conv_") || strings.Contains(l.GetValue(), a.token) {
					t.Errorf("%s carries an unbounded label %s=%q", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}
