package mcpserver_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/mcpserver"
	"github.com/agent-bridge/agent-bridge/internal/store/storetest"
)

// Resource update notifications reach sessions of the initialize handshake
// (the stdio clients of today); the in-process client is pinned to it.
func TestInboxResource(t *testing.T) {
	eachKind(t, func(t *testing.T, k kind) {
		h := newHarness(t, realTime)
		if k.name == overHTTP.name {
			// Notifications reach an HTTP client on its listening stream.
			url, _ := serveHTTP(t, h.srv, mcpserver.HTTPConfig{})
			//lint:ignore SA1019 the test speaks 2025-06-18 on purpose: clients of that version listen on a GET stream
			h.c = dialHTTPVersion(t, url, "2025-06-18", transport.WithContinuousListening())
		} else {
			h.c = connectLegacy(t, h.srv)
		}
		testInboxResource(t, h)
	})
}

func testInboxResource(t *testing.T, h *harness) {
	ctx := context.Background()
	c := h.create()
	uri := "agent-bridge://conversations/" + c.id + "/inbox/b"

	read := func() (map[string]any, error) {
		req := mcp.ReadResourceRequest{}
		req.Params.URI = uri
		res, err := h.c.ReadResource(ctx, req)
		if err != nil {
			return nil, err
		}
		var out map[string]any
		err = json.Unmarshal([]byte(res.Contents[0].(mcp.TextResourceContents).Text), &out)
		return out, err
	}
	// No tool call has authenticated session b in this connection yet.
	if _, err := read(); err == nil || !strings.Contains(err.Error(), "call a tool") {
		t.Fatalf("read before authentication: %v", err)
	}
	h.ok("update_my_status", c.as("b", map[string]any{"status": "waiting"}))
	list, err := h.c.ListResources(ctx, mcp.ListResourcesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range list.Resources {
		found = found || r.URI == uri
	}
	if !found {
		t.Fatalf("inbox not listed: %+v", list.Resources)
	}

	notes := make(chan string, 10)
	h.c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/resources/updated" {
			u, _ := n.Params.AdditionalFields["uri"].(string)
			notes <- u
		}
	})
	sub := mcp.SubscribeRequest{}
	sub.Params.URI = uri
	//lint:ignore SA1019 resources/subscribe is what clients of 2025-06-18 and before send
	if err := h.c.Subscribe(ctx, sub); err != nil {
		t.Fatal(err)
	}
	h.ok("send_to_partner", c.as("a", map[string]any{"message": "resource news"}))
	select {
	case u := <-notes:
		if u != uri {
			t.Fatalf("updated %q", u)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notifications/resources/updated")
	}
	out, err := read()
	if err != nil {
		t.Fatal(err)
	}
	msgs := out["unread_messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["message"] != "resource news" {
		t.Fatalf("inbox: %v", out)
	}
	// Reading the resource marked nothing read.
	if got := h.ok("check_messages", c.as("b", nil))["messages"].([]any); len(got) != 1 {
		t.Fatalf("after resource read: %v", got)
	}
}

// One HTTP node serves many clients: a client can read and list only the
// inboxes its own tool calls authenticated, never another client's.
func TestInboxIsPerClientOverHTTP(t *testing.T) {
	h := newHarness(t, realTime)
	url, _ := serveHTTP(t, h.srv, mcpserver.HTTPConfig{})
	//lint:ignore SA1019 clients of 2025-06-18 listen on a GET stream
	owner := dialHTTPVersion(t, url, "2025-06-18", transport.WithContinuousListening())
	//lint:ignore SA1019 clients of 2025-06-18 listen on a GET stream
	other := dialHTTPVersion(t, url, "2025-06-18", transport.WithContinuousListening())
	modern := dialHTTP(t, url) // sessionless protocol
	h.c = owner
	c := h.create()
	h.ok("send_to_partner", c.as("a", map[string]any{"message": "private"}))
	h.ok("check_messages", c.as("b", map[string]any{"peek": true}))
	uri := "agent-bridge://conversations/" + c.id + "/inbox/b"
	ctx := context.Background()
	req := mcp.ReadResourceRequest{}
	req.Params.URI = uri
	if _, err := owner.ReadResource(ctx, req); err != nil {
		t.Fatalf("owner cannot read its inbox: %v", err)
	}
	for name, cl := range map[string]interface {
		ReadResource(context.Context, mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error)
		ListResources(context.Context, mcp.ListResourcesRequest) (*mcp.ListResourcesResult, error)
	}{"other client": other, "sessionless client": modern} {
		res, err := cl.ReadResource(ctx, req)
		if err == nil || !strings.Contains(err.Error(), "call a tool") {
			t.Fatalf("%s read another client's inbox: %v %v", name, res, err)
		}
		list, err := cl.ListResources(ctx, mcp.ListResourcesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list.Resources {
			if r.URI == uri {
				t.Fatalf("%s sees another client's inbox listed", name)
			}
		}
	}
}

// An inbox subscription watches the subscribed inboxes and nothing else:
// traffic in another conversation does not wake the watcher (a store wakes
// this process's waiters before the write returns, so "not woken" is
// checked at once); a message for the inbox does, and a later
// subscription is added to what it watches.
func TestInboxSubscriptionWakesOnlyForItsInbox(t *testing.T) {
	h := newHarness(t, realTime)
	h.c = connectLegacy(t, h.srv)
	x, y := h.create(), h.create()
	notes := make(chan string, 10)
	h.c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/resources/updated" {
			u, _ := n.Params.AdditionalFields["uri"].(string)
			notes <- u
		}
	})
	subscribe := func(c conv) string {
		t.Helper()
		h.ok("update_my_status", c.as("b", map[string]any{"status": "waiting"}))
		sub := mcp.SubscribeRequest{}
		sub.Params.URI = "agent-bridge://conversations/" + c.id + "/inbox/b"
		//lint:ignore SA1019 resources/subscribe is what clients of 2025-06-18 and before send
		if err := h.c.Subscribe(context.Background(), sub); err != nil {
			t.Fatal(err)
		}
		return sub.Params.URI
	}
	watchOf := func(topics ...string) storetest.Watched {
		t.Helper()
		slices.Sort(topics)
		timeout := time.After(10 * time.Second)
		for {
			select {
			case w := <-h.spy.Watches:
				if slices.Equal(w.Topics, topics) {
					return w
				}
			case <-timeout:
				t.Fatalf("nothing watched %v", topics)
			}
		}
	}
	uri := subscribe(x)
	w := watchOf(bridge.InboxTopics(x.id, "b")...)
	h.ok("send_to_partner", y.as("a", map[string]any{"message": "elsewhere"}))
	h.ok("update_my_status", y.as("b", map[string]any{"status": "working"}))
	if storetest.Woken(w.Ch) {
		t.Fatal("traffic in another conversation woke the inbox watcher")
	}
	h.ok("send_to_partner", x.as("a", map[string]any{"message": "for b"}))
	select {
	case u := <-notes:
		if u != uri {
			t.Fatalf("updated %q, want %q", u, uri)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notifications/resources/updated")
	}
	uriY := subscribe(y)
	watchOf(append(bridge.InboxTopics(x.id, "b"), bridge.InboxTopics(y.id, "b")...)...)
	h.ok("send_to_partner", y.as("a", map[string]any{"message": "for b in y"}))
	select {
	case u := <-notes:
		if u != uriY {
			t.Fatalf("updated %q, want %q", u, uriY)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notifications/resources/updated for the second subscription")
	}
}
