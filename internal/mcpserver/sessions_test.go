package mcpserver_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/agent-bridge/agent-bridge/internal/mcpserver"
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
