package mcpserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/mcpserver"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// post sends a raw initialize request with extra headers.
func post(t *testing.T, url string, body io.Reader, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestHTTPOriginAndHost(t *testing.T) {
	h := newHarness(t, nil)
	url, _ := serveHTTP(t, h.srv, mcpserver.HTTPConfig{AllowOrigins: []string{"https://App.example.com"}})
	cases := []struct {
		name    string
		headers map[string]string
		status  int
		want    string
	}{
		{"no origin (any non-browser client)", nil, 200, `"protocolVersion"`},
		{"loopback origin on a loopback listener", map[string]string{"Origin": "http://localhost:3000"}, 200, `"protocolVersion"`},
		{"configured origin", map[string]string{"Origin": "https://app.example.com"}, 200, `"protocolVersion"`},
		{"foreign origin", map[string]string{"Origin": "https://evil.example"}, 403, `--http-allow-origin https://evil.example`},
		{"opaque origin", map[string]string{"Origin": "null"}, 403, "may not call"},
		{"configured origin, other scheme", map[string]string{"Origin": "http://app.example.com"}, 403, "may not call"},
		{"rebound host name", map[string]string{"Host": "evil.example:80"}, 403, "invalid Host header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := post(t, url, strings.NewReader(initBody), tc.headers)
			if res.StatusCode != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("status %d, body %q; want %d and %q", res.StatusCode, body, tc.status, tc.want)
			}
		})
	}
	if _, err := mcpserver.NewHTTP(h.srv, mcpserver.HTTPConfig{AllowOrigins: []string{"app.example.com"}}, nil); err == nil || !strings.Contains(err.Error(), "scheme://host") {
		t.Fatalf("origin without scheme accepted: %v", err)
	}
}

// chunked hides a reader's length so the request has no Content-Length.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestHTTPBodyLimit(t *testing.T) {
	h := newHarness(t, nil)
	url, _ := serveHTTP(t, h.srv, mcpserver.HTTPConfig{MaxBody: 64 << 10})
	c := h.create()
	big := fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"send_to_partner","arguments":{"conversation_id":%q,"session_id":"a","token":%q,"message":%q}}}`,
		c.id, c.tokA, strings.Repeat("x", 65<<10))
	for name, body := range map[string]io.Reader{
		"declared length": strings.NewReader(big),
		"chunked":         chunked{strings.NewReader(big)},
	} {
		t.Run(name, func(t *testing.T) {
			res, text := post(t, url, body, map[string]string{"Mcp-Protocol-Version": "2025-06-18"})
			if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(text, "limit is 65536 bytes") {
				t.Fatalf("status %d: %q", res.StatusCode, text)
			}
		})
	}
	if msgs, _ := h.counts(); msgs != 0 {
		t.Fatalf("an oversized request stored %d messages", msgs)
	}
	// A body under the limit still works.
	if res, text := post(t, url, strings.NewReader(initBody), nil); res.StatusCode != 200 {
		t.Fatalf("small body: %d %q", res.StatusCode, text)
	}
}

func TestHTTPBearer(t *testing.T) {
	const secret = "s3cret-bearer-0123456789"
	h := newHarness(t, nil)
	url, _ := serveHTTP(t, h.srv, mcpserver.HTTPConfig{Token: []byte(secret)})
	for name, hdr := range map[string]map[string]string{
		"missing":       nil,
		"wrong":         {"Authorization": "Bearer " + secret + "x"},
		"prefix":        {"Authorization": "Bearer " + secret[:10]},
		"other scheme":  {"Authorization": "Basic " + secret},
		"secret alone":  {"Authorization": secret},
		"empty bearer":  {"Authorization": "Bearer "},
		"in the origin": {"Origin": "http://localhost", "X-Token": secret},
	} {
		t.Run(name, func(t *testing.T) {
			res, body := post(t, url, strings.NewReader(initBody), hdr)
			if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("status %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
			if strings.Contains(body, secret[:8]) || !strings.Contains(body, "Authorization: Bearer") {
				t.Fatalf("body %q", body)
			}
		})
	}
	// The right secret works, through the SDK's client too.
	c := dialHTTP(t, url, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + secret}))
	req := mcp.CallToolRequest{}
	req.Params.Name = "create_conversation"
	req.Params.Arguments = map[string]any{"my_role": "backend", "partner_role": "frontend"}
	if res, err := c.CallTool(context.Background(), req); err != nil || res.IsError {
		t.Fatalf("authorized call: %v %v", err, res)
	}
}

// A client that takes the 401 for the start of OAuth (Claude Code does)
// looks for OAuth metadata, then registers itself at /register and shows
// the registration error to the person: every answer on that path says to
// add the header, in OAuth's error format, and none is a success that
// would make the node look like an authorization server.
func TestHTTPBearerAnswersOAuthDiscovery(t *testing.T) {
	const secret = "s3cret-bearer-0123456789"
	h := newHarness(t, nil)
	mcpURL, _ := serveHTTP(t, h.srv, mcpserver.HTTPConfig{Token: []byte(secret)})
	base := strings.TrimSuffix(mcpURL, mcpserver.EndpointPath)
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/.well-known/oauth-protected-resource/mcp", http.StatusNotFound},
		{http.MethodGet, "/.well-known/oauth-protected-resource", http.StatusNotFound},
		{http.MethodGet, "/.well-known/oauth-authorization-server", http.StatusNotFound},
		{http.MethodGet, "/.well-known/openid-configuration", http.StatusNotFound},
		{http.MethodPost, "/register", http.StatusBadRequest},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(`{"redirect_uris":["http://localhost:1/callback"]}`))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatalf("not an OAuth error body: %v", err)
			}
			if res.StatusCode != c.status || res.Header.Get("Content-Type") != "application/json" || body.Error != "invalid_request" {
				t.Fatalf("status %d, type %q, error %q", res.StatusCode, res.Header.Get("Content-Type"), body.Error)
			}
			for _, want := range []string{"Authorization: Bearer <secret>", "--http-token-file", "--header", mcpURL} {
				if !strings.Contains(body.Description, want) {
					t.Errorf("description lacks %q: %s", want, body.Description)
				}
			}
			if strings.Contains(body.Description, secret[:8]) {
				t.Fatal("the description holds the secret")
			}
		})
	}
	// The 401 itself says the same to clients that show its body.
	res, text := post(t, mcpURL, strings.NewReader(initBody), nil)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(text, "--header") {
		t.Fatalf("401 body: %d %q", res.StatusCode, text)
	}
}

// Without a bearer secret nothing asks for OAuth, so the node claims none
// of its paths.
func TestHTTPNoBearerNoOAuthAnswers(t *testing.T) {
	h := newHarness(t, nil)
	mcpURL, _ := serveHTTP(t, h.srv, mcpserver.HTTPConfig{})
	res, err := http.Post(strings.TrimSuffix(mcpURL, mcpserver.EndpointPath)+"/register", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || res.Header.Get("Content-Type") == "application/json" {
		t.Fatalf("status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// startFront serves the HTTP front on a real listener, as serve --http
// does, and returns its URL, address and a function that stops it and
// reports how long stopping took.
func startFront(t *testing.T, h *harness, cfg mcpserver.HTTPConfig) (url, addr string, stop func() (time.Duration, error)) {
	t.Helper()
	front, err := mcpserver.NewHTTP(h.srv, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- front.Serve(ctx, ln, "", "") }()
	stopped := false
	stop = func() (time.Duration, error) {
		start := time.Now()
		cancel()
		stopped = true
		err := <-done
		return time.Since(start), err
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	return "http://" + ln.Addr().String() + mcpserver.EndpointPath, ln.Addr().String(), stop
}

// Shutdown ends a waiting check_messages at once, with a result saying so,
// and takes nothing; the listener stops accepting.
func TestHTTPShutdownEndsWaits(t *testing.T) {
	h := newHarness(t, realTime)
	url, addr, stop := startFront(t, h, mcpserver.HTTPConfig{Grace: 5 * time.Second})
	c := dialHTTP(t, url)
	cv := h.create()
	got := make(chan *mcp.CallToolResult, 1)
	go func() {
		req := mcp.CallToolRequest{}
		req.Params.Name = "check_messages"
		req.Params.Arguments = cv.as("b", map[string]any{"wait_seconds": 600})
		res, err := c.CallTool(context.Background(), req)
		if err != nil {
			res = mcp.NewToolResultError("protocol error: " + err.Error())
		}
		got <- res
	}()
	waitForWaiters(t, h, 1)
	took, err := stop()
	if err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if took > 3*time.Second {
		t.Fatalf("shutdown with a waiting call took %s", took)
	}
	res := <-got
	if !res.IsError || !strings.Contains(text(res), "shutting down; no message was marked read") {
		t.Fatalf("waiting call after shutdown: %s", text(res))
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("still accepting connections after shutdown")
	}
	h.ok("send_to_partner", cv.as("a", map[string]any{"message": "after shutdown"}))
	if msgs := h.ok("check_messages", cv.as("b", nil))["messages"].([]any); len(msgs) != 1 {
		t.Fatalf("the ended wait took a message: %v", msgs)
	}
}

// waitForWaiters blocks until exactly n check_messages calls are waiting.
func waitForWaiters(t *testing.T, h *harness, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.svc.Waiters() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters after 10s, want %d", h.svc.Waiters(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Slow clients: headers that never finish are cut off; a body that
// trickles past the body deadline is refused; but a call that takes longer
// than both (a wait) is answered.
func TestHTTPTimeouts(t *testing.T) {
	h := newHarness(t, realTime)
	cfg := mcpserver.HTTPConfig{ReadHeaderTimeout: 300 * time.Millisecond, BodyTimeout: 300 * time.Millisecond}
	url, addr, _ := startFront(t, h, cfg)

	t.Run("slow headers", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /mcp HTTP/1.1\r\nHost: %s\r\n", addr) // and never the blank line
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		_, err = io.ReadAll(conn)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server kept a half-sent request open for %s", time.Since(start))
		}
	})
	t.Run("slow body", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /mcp HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", addr, len(initBody))
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a stalled body: %v", err)
		}
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("stalled body: status %d", res.StatusCode)
		}
	})
	t.Run("long call", func(t *testing.T) {
		c := dialHTTP(t, url)
		cv := h.create()
		req := mcp.CallToolRequest{}
		req.Params.Name = "check_messages"
		req.Params.Arguments = cv.as("b", map[string]any{"wait_seconds": 1})
		res, err := c.CallTool(context.Background(), req)
		if err != nil || res.IsError || !strings.Contains(text(res), "after waiting 1 seconds") {
			t.Fatalf("a call longer than the read deadlines: %v %v", err, res)
		}
	})
}

// A browser at an allowed origin can call: its preflight (which carries no
// credentials) is answered with CORS headers, and the answer to its
// request carries them too; a preflight from another origin is refused.
func TestHTTPCORS(t *testing.T) {
	const secret = "cors-bearer-secret-0123456789"
	h := newHarness(t, nil)
	url, _ := serveHTTP(t, h.srv, mcpserver.HTTPConfig{Token: []byte(secret), AllowOrigins: []string{"https://app.example.com"}})
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, url, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type, mcp-protocol-version")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	res := preflight("https://app.example.com")
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Mcp-Protocol-Version") {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
	if res := preflight("https://evil.example"); res.StatusCode != http.StatusForbidden || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign preflight: %d %v", res.StatusCode, res.Header)
	}
	r, body := post(t, url, strings.NewReader(initBody), map[string]string{"Origin": "https://app.example.com", "Authorization": "Bearer " + secret})
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("request from the allowed origin: %d %v %s", r.StatusCode, r.Header, body)
	}
	// The preflight exemption is not a way around the secret.
	if r, _ := post(t, url, strings.NewReader(initBody), map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST posing as a preflight: %d", r.StatusCode)
	}
}

// blockingStore holds every write until released, as a slow disk would.
type blockingStore struct {
	bridge.Store
	entered chan struct{}
	release chan struct{}
}

func (s blockingStore) Update(ctx context.Context, fn func(bridge.Tx) error, opts ...bridge.UpdateOption) error {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-s.release
	return s.Store.Update(ctx, fn, opts...)
}

// On shutdown a call in flight may finish within the grace period; one
// that would take longer is cut off when the grace period ends.
func TestHTTPShutdownGrace(t *testing.T) {
	for _, tc := range []struct {
		name     string
		finishes bool
	}{{"finishes within grace", true}, {"cut off after grace", false}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			st := blockingStore{Store: h.db, entered: make(chan struct{}, 1), release: make(chan struct{})}
			released := false
			release := func() {
				if !released {
					released = true
					close(st.release)
				}
			}
			t.Cleanup(release)
			var key token.Key
			h.srv = mcpserver.New(bridge.NewService(st, key, nil, bridge.DefaultConfig(), nil), "test", nil)
			const grace = 300 * time.Millisecond
			url, addr, stop := startFront(t, h, mcpserver.HTTPConfig{Grace: grace})
			c := dialHTTP(t, url)
			got := make(chan error, 1)
			go func() {
				req := mcp.CallToolRequest{}
				req.Params.Name = "create_conversation"
				req.Params.Arguments = map[string]any{"my_role": "backend", "partner_role": "frontend"}
				res, err := c.CallTool(context.Background(), req)
				if err == nil && res.IsError {
					err = errors.New(text(res))
				}
				got <- err
			}()
			<-st.entered
			stopped := make(chan time.Duration, 1)
			go func() { took, _ := stop(); stopped <- took }()
			// Shutdown has begun once the listener refuses connections.
			for {
				conn, err := net.DialTimeout("tcp", addr, time.Second)
				if err != nil {
					break
				}
				conn.Close()
				time.Sleep(time.Millisecond)
			}
			if tc.finishes {
				release()
				if err := <-got; err != nil {
					t.Fatalf("the call in flight did not finish: %v", err)
				}
				if took := <-stopped; took > 3*time.Second {
					t.Fatalf("shutdown took %s", took)
				}
				return
			}
			took := <-stopped
			if took < grace || took > 3*time.Second {
				t.Fatalf("shutdown took %s with a call stuck; grace %s", took, grace)
			}
			if err := <-got; err == nil {
				t.Fatal("a call cut off by shutdown reported success")
			}
		})
	}
}
