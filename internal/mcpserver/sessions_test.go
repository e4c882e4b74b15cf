package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/server"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/mcpserver"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// HTTP session ids: minted and checked under the node's key, refused when
// forged, and refused everywhere once the client ends them with DELETE.
func TestHTTPSessionIDs(t *testing.T) {
	h := newHarness(t, nil)
	cfg := mcpserver.HTTPConfig{SessionKey: []byte("0123456789abcdef0123456789abcdef")}
	url, _ := serveHTTP(t, h.srv, cfg)
	// A second node with the same key, as two nodes sharing a store.
	other, _ := serveHTTP(t, h.srv, cfg)
	// A node with another key.
	foreign, _ := serveHTTP(t, h.srv, mcpserver.HTTPConfig{SessionKey: []byte("another key, another bridge.....")})

	res, _ := post(t, url, strings.NewReader(initBody), nil)
	sid := res.Header.Get("Mcp-Session-Id")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(sid, "ab1.") {
		t.Fatalf("initialize: %d, session id %q", res.StatusCode, sid)
	}
	ping := `{"jsonrpc":"2.0","id":2,"method":"ping"}`
	hdr := func(id string) map[string]string {
		return map[string]string{"Mcp-Session-Id": id, "Mcp-Protocol-Version": "2025-06-18"}
	}
	for _, u := range []string{url, other} {
		if res, body := post(t, u, strings.NewReader(ping), hdr(sid)); res.StatusCode != http.StatusOK {
			t.Fatalf("a minted id on a node sharing the key: %d %s", res.StatusCode, body)
		}
	}
	if res, _ := post(t, foreign, strings.NewReader(ping), hdr(sid)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a node with another key accepted the id: %d", res.StatusCode)
	}

	// Well-formed ids nobody minted: the stock format, and ours with one
	// character of the MAC changed.
	forged := sid[:len(sid)-1] + "A"
	if strings.HasSuffix(sid, "A") {
		forged = sid[:len(sid)-1] + "B"
	}
	for _, id := range []string{"mcp-session-3f2504e0-4f89-41d3-9a0c-0305e82c3301", forged} {
		if res, _ := post(t, url, strings.NewReader(ping), hdr(id)); res.StatusCode != http.StatusNotFound {
			t.Fatalf("forged session id %q: %d, want 404", id, res.StatusCode)
		}
	}

	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	dres, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	dres.Body.Close()
	if dres.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d", dres.StatusCode)
	}
	if res, _ := post(t, url, strings.NewReader(ping), hdr(sid)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("an ended session still answers: %d, want 404", res.StatusCode)
	}
}

// Batches follow the negotiated protocol version: served element by
// element up to 2025-03-26, refused with -32600 after; an id-only message
// is an invalid request on either era.
func TestHTTPBatchesAndIDOnlyMessages(t *testing.T) {
	h := newHarness(t, nil)
	url, _ := serveHTTP(t, h.srv, mcpserver.HTTPConfig{})
	res, _ := post(t, url, strings.NewReader(initBody), nil)
	sid := res.Header.Get("Mcp-Session-Id")
	hdr := func(v string) map[string]string {
		return map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": v}
	}
	batch := `[{"jsonrpc":"2.0","id":2,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99}},{"jsonrpc":"2.0","id":"x","method":"tools/list"}]`

	res, body := post(t, url, strings.NewReader(batch), hdr("2025-03-26"))
	var got []map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil || res.StatusCode != http.StatusOK || len(got) != 2 {
		t.Fatalf("2025-03-26 batch: %d %v %s", res.StatusCode, err, body)
	}
	if got[0]["id"] != 2.0 || got[0]["result"] == nil || got[1]["id"] != "x" || got[1]["result"] == nil {
		t.Fatalf("2025-03-26 batch answers: %s", body)
	}
	for _, b := range []string{batch, `[]`} {
		for _, v := range []string{"2025-06-18", "2025-11-25"} {
			res, body := post(t, url, strings.NewReader(b), hdr(v))
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"code":-32600`) {
				t.Fatalf("%s batch %s: %d %s", v, b, res.StatusCode, body)
			}
		}
	}
	if res, body := post(t, url, strings.NewReader(`[]`), hdr("2025-03-26")); !strings.Contains(body, `"code":-32600`) {
		t.Fatalf("empty batch: %d %s", res.StatusCode, body)
	}
	res, body = post(t, url, strings.NewReader(`{"jsonrpc":"2.0","id":5}`), hdr("2025-06-18"))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"code":-32600`) || !strings.Contains(body, `"id":5`) {
		t.Fatalf("id-only message: %d %s", res.StatusCode, body)
	}
}

// otherProcess returns another MCP server over h's database and key, as
// another agent-bridge process would be, and its service.
func otherProcess(t *testing.T, h *harness) (*server.MCPServer, *bridge.Service) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), h.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var key token.Key
	copy(key[:], "0123456789abcdef0123456789abcdef")
	svc := bridge.NewService(db, key, nil, h.svc.Config(), nil)
	return mcpserver.New(svc, "test", nil), svc
}

// DELETE /mcp on one node ends the session on every node sharing the
// store, a node started afterwards included: each refuses it with 404. The
// store keeps a keyed digest of the id, never the id.
func TestHTTPSessionEndsOnEveryNode(t *testing.T) {
	h := newHarness(t, nil)
	key := []byte("0123456789abcdef0123456789abcdef")
	srv2, svc2 := otherProcess(t, h)
	node1, _ := serveHTTP(t, h.srv, mcpserver.HTTPConfig{SessionKey: key, SessionEnds: h.svc})
	node2, _ := serveHTTP(t, srv2, mcpserver.HTTPConfig{SessionKey: key, SessionEnds: svc2})
	ping := `{"jsonrpc":"2.0","id":2,"method":"ping"}`
	hdr := func(id string) map[string]string {
		return map[string]string{"Mcp-Session-Id": id, "Mcp-Protocol-Version": "2025-06-18"}
	}
	start := func(url string) string {
		t.Helper()
		res, _ := post(t, url, strings.NewReader(initBody), nil)
		sid := res.Header.Get("Mcp-Session-Id")
		if res.StatusCode != http.StatusOK || sid == "" {
			t.Fatalf("initialize: %d", res.StatusCode)
		}
		return sid
	}
	end := func(url, sid string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodDelete, url, nil)
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("DELETE: %d", res.StatusCode)
		}
	}
	status := func(url, sid string) int {
		t.Helper()
		res, _ := post(t, url, strings.NewReader(ping), hdr(sid))
		return res.StatusCode
	}

	sid := start(node1)
	if got := status(node2, sid); got != http.StatusOK {
		t.Fatalf("the other node before DELETE: %d", got)
	}
	end(node1, sid)
	for name, url := range map[string]string{"the node that ended it": node1, "the other node": node2} {
		if got := status(url, sid); got != http.StatusNotFound {
			t.Fatalf("%s after DELETE: %d, want 404", name, got)
		}
	}
	// A node that never saw the session, started after the DELETE.
	srv3, svc3 := otherProcess(t, h)
	node3, _ := serveHTTP(t, srv3, mcpserver.HTTPConfig{SessionKey: key, SessionEnds: svc3})
	if got := status(node3, sid); got != http.StatusNotFound {
		t.Fatalf("a new node after DELETE: %d, want 404", got)
	}
	// Ended on the other node, the other way round.
	sid2 := start(node1)
	end(node2, sid2)
	if got := status(node1, sid2); got != http.StatusNotFound {
		t.Fatalf("node 1 after DELETE on node 2: %d, want 404", got)
	}
	// Another session is untouched.
	if sid3 := start(node2); status(node1, sid3) != http.StatusOK {
		t.Fatal("a live session was refused")
	}

	// Neither id is anywhere in the database files; an audit row says a
	// session ended.
	h.db.Close()
	files, _ := filepath.Glob(h.db.Path() + "*")
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.IsDir() {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{sid, sid2} {
			if bytes.Contains(b, []byte(id)) || bytes.Contains(b, []byte(strings.TrimPrefix(id, "ab1."))) {
				t.Fatalf("%s holds a session id", f)
			}
		}
	}
	rows, err := svc2.Audit(context.Background(), bridge.AuditFilter{})
	ends := 0
	for _, r := range rows {
		if r.Tool == "http:end-session" {
			ends++
		}
	}
	if err != nil || ends != 2 {
		t.Fatalf("audit rows of ended sessions: %d, %v", ends, err)
	}
}
