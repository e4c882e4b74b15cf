package console_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/storetest"
)

// stream opens an event stream of the logged-in cl and returns its update
// events.
func (h *harness) stream(cl *http.Client, query string) <-chan string {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", h.srv.URL+"/events?"+query, nil)
	res, err := cl.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { res.Body.Close() })
	return readEvents(res.Body)
}

// watchOf waits for a watch of exactly topics.
func (h *harness) watchOf(topics ...string) storetest.Watched {
	h.t.Helper()
	slices.Sort(topics)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case w := <-h.spy.Watches:
			if slices.Equal(w.Topics, topics) {
				return w
			}
		case <-timeout:
			h.t.Fatalf("no event stream watched %v", topics)
		}
	}
}

func nextEvent(t *testing.T, events <-chan string, what string) string {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("no event after %s", what)
		return ""
	}
}

// An open page wakes for writes to what it shows and for nothing else: a
// conversation page for its conversation, the overview for every live
// conversation and for one being created, the audit page for the trail.
// (A store wakes this process's waiters before the write returns, so "not
// woken" is checked at once.)
func TestEventStreamsWakeOnlyForWhatThePageShows(t *testing.T) {
	h := newHarness(t)
	x, y := h.conversation(), h.conversation()
	cl := h.browser()
	h.login(cl)
	xID, yID := x.Conversation.ID, y.Conversation.ID

	conv := h.stream(cl, "view=conversation&id="+xID)
	nextEvent(t, conv, "opening the conversation page")
	w := h.watchOf(bridge.ApprovalsTopic, bridge.ConversationsTopic, bridge.ConversationTopic(xID))
	h.send(y, bridge.SessionA, "in y")
	if storetest.Woken(w.Ch) {
		t.Fatal("a message in another conversation woke the conversation page")
	}
	yb := bridge.Caller{ConversationID: yID, Session: "b", Token: y.TokenB}
	if _, err := h.svc.UpdateStatus(context.Background(), yb, "blocked"); err != nil {
		t.Fatal(err)
	}
	if storetest.Woken(w.Ch) {
		t.Fatal("a status in another conversation woke the conversation page")
	}
	// A status in its own conversation changes what it shows.
	xb := bridge.Caller{ConversationID: xID, Session: "b", Token: x.TokenB}
	if _, err := h.svc.UpdateStatus(context.Background(), xb, "working"); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, conv, "a status in the conversation"); !strings.Contains(ev, "working") {
		t.Fatalf("conversation page after a status: %s", ev)
	}

	over := h.stream(cl, "view=overview")
	nextEvent(t, over, "opening the overview")
	w = h.watchOf(bridge.ApprovalsTopic, bridge.ConversationsTopic, bridge.ConversationTopic(xID), bridge.ConversationTopic(yID))
	if _, err := h.svc.UpdateStatus(context.Background(), yb, "complete"); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, over, "a status in a live conversation"); !strings.Contains(ev, "complete") {
		t.Fatalf("overview after a status: %s", ev)
	}
	// A new conversation appears, and is watched from then on.
	z := h.conversation()
	zID := z.Conversation.ID
	if ev := nextEvent(t, over, "a new conversation"); !strings.Contains(ev, zID) {
		t.Fatalf("overview after a create lacks %s: %s", zID, ev)
	}
	h.watchOf(bridge.ApprovalsTopic, bridge.ConversationsTopic, bridge.ConversationTopic(xID), bridge.ConversationTopic(yID), bridge.ConversationTopic(zID))

	audit := h.stream(cl, "view=audit")
	nextEvent(t, audit, "opening the audit page")
	w = h.watchOf(bridge.ApprovalsTopic, bridge.AuditTopic)
	h.send(z, bridge.SessionA, "in z")
	if !storetest.Woken(w.Ch) {
		t.Fatal("an audited call did not wake the audit page")
	}
}
