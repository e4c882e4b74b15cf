package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/console"
)

// populate makes n live conversations, each with statuses and a few
// messages, one of them read.
func (h *harness) populate(n int) {
	h.t.Helper()
	ctx := context.Background()
	for i := range n {
		cr := h.conversation()
		a := bridge.Caller{ConversationID: cr.Conversation.ID, Session: bridge.SessionA, Token: cr.TokenA}
		b := bridge.Caller{ConversationID: cr.Conversation.ID, Session: bridge.SessionB, Token: cr.TokenB}
		if _, err := h.svc.UpdateStatus(ctx, a, "working"); err != nil {
			h.t.Fatal(err)
		}
		h.send(cr, bridge.SessionA, fmt.Sprintf("message %d: the parser returns *ParseError", i))
		if _, err := h.svc.CheckMessages(ctx, b, bridge.CheckInput{}); err != nil {
			h.t.Fatal(err)
		}
		h.send(cr, bridge.SessionB, "ok, and the line number?")
		h.send(cr, bridge.SessionA, "yes, 1-based")
	}
}

// cookie logs in through the handler and returns the session cookie.
func (h *harness) cookie() *http.Cookie {
	h.t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "http://127.0.0.1:1"+console.LoginPath(h.c.NewLogin()), nil)
	h.c.Handler().ServeHTTP(rec, req)
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		h.t.Fatalf("login: %d, %d cookies", rec.Code, len(cs))
	}
	return cs[0]
}

// BenchmarkOverview200 renders the overview of 200 live conversations on
// the server, from the store to the last byte of HTML. Target: under 50 ms.
func BenchmarkOverview200(b *testing.B) {
	h := newHarness(b)
	h.populate(200)
	ck := h.cookie()
	handler := h.c.Handler()
	var lat []time.Duration
	for b.Loop() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "http://127.0.0.1:1/", nil)
		req.AddCookie(ck)
		start := time.Now()
		handler.ServeHTTP(rec, req)
		lat = append(lat, time.Since(start))
		if rec.Code != 200 || strings.Count(rec.Body.String(), `<td class="conv">`) != 200 {
			b.Fatalf("overview: %d, %d rows", rec.Code, strings.Count(rec.Body.String(), `<td class="conv">`))
		}
	}
	report(b, lat)
}

// BenchmarkEventLatency measures how long after a message's commit (Send
// returned) the conversation page's event stream delivers the timeline
// with it. Target: under 100 ms.
func BenchmarkEventLatency(b *testing.B) {
	h := newHarness(b)
	cr := h.conversation()
	cl := h.browser()
	h.login(cl)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", h.srv.URL+"/events?view=conversation&id="+cr.Conversation.ID, nil)
	res, err := cl.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	events := readEvents(res.Body)
	<-events // the page as it is
	var lat []time.Duration
	for b.Loop() {
		m := h.send(cr, bridge.SessionA, "ping")
		committed := time.Now()
		want := fmt.Sprintf(`id="m%d"`, m.ID)
		for ev := range events {
			if strings.Contains(ev, want) {
				break
			}
		}
		lat = append(lat, time.Since(committed))
	}
	report(b, lat)
}

func report(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*95/100]), "p95-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
}
