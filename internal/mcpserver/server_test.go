package mcpserver_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/mcpserver"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/store/storetest"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

type harness struct {
	srv   *server.MCPServer
	t     testing.TB
	db    *sqlite.DB
	spy   *storetest.Spy // db, reporting what waiters watch
	svc   *bridge.Service
	c     *client.Client
	clock *clock
}

// kind is a way for a client to reach the server: it returns an
// initialized client.
type kind struct {
	name    string
	connect func(t testing.TB, srv *server.MCPServer) *client.Client
}

var (
	inProcess = kind{"inprocess", func(t testing.TB, srv *server.MCPServer) *client.Client { return connect(t, srv) }}
	overHTTP  = kind{"http", func(t testing.TB, srv *server.MCPServer) *client.Client {
		return connectHTTP(t, srv, mcpserver.HTTPConfig{})
	}}
	kinds = []kind{inProcess, overHTTP}
)

// eachKind runs test once per client kind, as a subtest named after it.
func eachKind(t *testing.T, test func(t *testing.T, k kind)) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) { test(t, k) })
	}
}

// newHarness serves the tools over a fresh database to an in-process MCP
// client that checks every result against its tool's output schema. Rate
// limits are off unless tune sets them.
func newHarness(t testing.TB, tune func(*bridge.Config)) *harness {
	return newHarnessOf(t, inProcess, tune, server.WithOutputSchemaValidation())
}

// newHarnessKind is newHarness for a client of kind k.
func newHarnessKind(t testing.TB, k kind, tune func(*bridge.Config)) *harness {
	return newHarnessOf(t, k, tune, server.WithOutputSchemaValidation())
}

// newHarnessWith is newHarness with the given server options.
func newHarnessWith(t testing.TB, tune func(*bridge.Config), opts ...server.ServerOption) *harness {
	return newHarnessOf(t, inProcess, tune, opts...)
}

func newHarnessOf(t testing.TB, k kind, tune func(*bridge.Config), opts ...server.ServerOption) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &clock{now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	cfg := bridge.DefaultConfig()
	cfg.SessionLimits, cfg.CreateLimits, cfg.CreatorLimits, cfg.RefusalLimits, cfg.HostRefusalLimits = nil, nil, nil, nil, nil
	cfg.Now = clk.Now
	if tune != nil {
		tune(&cfg)
	}
	var key token.Key
	copy(key[:], "0123456789abcdef0123456789abcdef")
	spy := storetest.NewSpy(db)
	svc := bridge.NewService(spy, key, nil, cfg, nil)
	t.Cleanup(func() { svc.Close() }) // before the database closes
	srv := mcpserver.New(svc, "test", nil, opts...)
	return &harness{t: t, srv: srv, db: db, spy: spy, svc: svc, c: k.connect(t, srv), clock: clk}
}

// serveHTTP serves srv through the HTTP front on a loopback test server and
// returns its endpoint URL and the front.
func serveHTTP(t testing.TB, srv *server.MCPServer, cfg mcpserver.HTTPConfig) (string, *mcpserver.HTTP) {
	t.Helper()
	front, err := mcpserver.NewHTTP(srv, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(front.Handler())
	t.Cleanup(func() { front.Drain(); ts.Close() })
	return ts.URL + mcpserver.EndpointPath, front
}

// connectHTTP returns an initialized Streamable HTTP client of srv.
func connectHTTP(t testing.TB, srv *server.MCPServer, cfg mcpserver.HTTPConfig, opts ...transport.StreamableHTTPCOption) *client.Client {
	t.Helper()
	url, _ := serveHTTP(t, srv, cfg)
	return dialHTTP(t, url, opts...)
}

func dialHTTP(t testing.TB, url string, opts ...transport.StreamableHTTPCOption) *client.Client {
	t.Helper()
	return dialHTTPVersion(t, url, mcp.LATEST_PROTOCOL_VERSION, opts...)
}

// dialHTTPVersion initializes with the given protocol version.
func dialHTTPVersion(t testing.TB, url, version string, opts ...transport.StreamableHTTPCOption) *client.Client {
	t.Helper()
	c, err := client.NewStreamableHttpClient(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	start(t, c, version)
	return c
}

// start starts c and performs the initialize handshake with version.
func start(t testing.TB, c *client.Client, version string) {
	t.Helper()
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = version
	req.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		t.Fatal(err)
	}
}

func connect(t testing.TB, srv *server.MCPServer, opts ...client.ClientOption) *client.Client {
	t.Helper()
	c, err := client.NewInProcessClientWithOptions(srv, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	start(t, c, mcp.LATEST_PROTOCOL_VERSION)
	return c
}

// connectLegacy connects a client that uses the initialize handshake.
func connectLegacy(t testing.TB, srv *server.MCPServer) *client.Client {
	return connect(t, srv, client.WithProtocolVersion("2025-06-18"))
}

// call invokes a tool and fails the test on a protocol error.
func (h *harness) call(name string, args map[string]any) *mcp.CallToolResult {
	h.t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := h.c.CallTool(context.Background(), req)
	if err != nil {
		h.t.Fatalf("%s: protocol error: %v", name, err)
	}
	return res
}

// ok invokes a tool that must succeed and returns its structured content.
func (h *harness) ok(name string, args map[string]any) map[string]any {
	h.t.Helper()
	res := h.call(name, args)
	if res.IsError {
		h.t.Fatalf("%s(%v) failed: %s", name, args, text(res))
	}
	return structured(h.t, res)
}

func structured(t testing.TB, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	var raw []byte
	var err error
	if len(res.RawStructuredContent) > 0 {
		raw = res.RawStructuredContent
	} else if raw, err = json.Marshal(res.StructuredContent); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("structured content %s: %v", raw, err)
	}
	return m
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

type conv struct {
	id, tokA, tokB string
}

func (h *harness) create() conv {
	h.t.Helper()
	out := h.ok("create_conversation", map[string]any{"my_role": "backend_developer", "partner_role": "frontend_developer"})
	return conv{out["conversation_id"].(string), out["session_a_token"].(string), out["session_b_token"].(string)}
}

func (c conv) as(s string, extra map[string]any) map[string]any {
	tok := c.tokA
	if s == "b" {
		tok = c.tokB
	}
	m := map[string]any{"conversation_id": c.id, "session_id": s, "token": tok}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// counts returns the number of messages and audit rows, and whether the
// audit chain verifies.
func (h *harness) counts() (messages, auditRows int) {
	h.t.Helper()
	list, err := h.svc.List(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	for _, o := range list {
		messages += o.Messages
	}
	r, err := h.svc.VerifyAudit(context.Background(), "")
	if err != nil {
		h.t.Fatal(err)
	}
	if !r.OK() {
		h.t.Fatalf("audit chain broken: %v", r.Problems)
	}
	return messages, int(r.Checked)
}
