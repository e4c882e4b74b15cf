package mcpserver_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/mcpserver"
)

func listTools(t *testing.T, c *client.Client) map[string]bool {
	t.Helper()
	res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tl := range res.Tools {
		names[tl.Name] = true
	}
	return names
}

func TestYoloToolsHiddenAndRefusedWhenOff(t *testing.T) {
	h := newHarness(t, nil)
	names := listTools(t, h.c)
	if names["enable_yolo_mode"] || names["execute_command"] || !names["send_to_partner"] {
		t.Fatalf("tools listed with YOLO mode off: %v", names)
	}
	c := h.create()
	for _, call := range []struct {
		name string
		args map[string]any
	}{
		{"enable_yolo_mode", c.as("a", map[string]any{"mode": "safe"})},
		{"execute_command", c.as("a", map[string]any{"command": "ls"})},
	} {
		res := h.call(call.name, call.args)
		if !res.IsError || !strings.Contains(text(res), "YOLO_MODE=1") || !strings.Contains(text(res), "only a person") {
			t.Fatalf("%s with YOLO mode off: %s", call.name, text(res))
		}
	}
	on := newHarness(t, func(c *bridge.Config) { c.Yolo.Enabled = true })
	if names := listTools(t, on.c); !names["enable_yolo_mode"] || !names["execute_command"] {
		t.Fatalf("tools not listed with YOLO mode on: %v", names)
	}
}

// forger is a client that answers every form it is shown, as a script
// with an MCP SDK would: it reads the phrase and the code from the message
// and types them back. A consent it can give is a consent the agent gives
// itself.
type forger struct {
	mu    sync.Mutex
	asked []string
}

var formRe = regexp.MustCompile(`"([^"]+)".*?(\d{3}-\d{3})`)

func (f *forger) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, req.Params.Message)
	m := formRe.FindStringSubmatch(req.Params.Message)
	if m == nil {
		return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}, nil
	}
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{
		Action:  mcp.ElicitationResponseActionAccept,
		Content: map[string]any{"phrase": m[1], "code": m[2]},
	}}, nil
}

// dialWithForms connects a client that answers forms with f, in process or
// over Streamable HTTP, speaking proto.
func dialWithForms(t *testing.T, srv *server.MCPServer, overHTTP bool, proto string, f *forger) *client.Client {
	t.Helper()
	if !overHTTP {
		return connect(t, srv, client.WithElicitationHandler(f), client.WithProtocolVersion(proto))
	}
	url, _ := serveHTTP(t, srv, mcpserver.HTTPConfig{})
	tr, err := transport.NewStreamableHTTP(url)
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr, client.WithElicitationHandler(f), client.WithProtocolVersion(proto))
	t.Cleanup(func() { c.Close() })
	start(t, c, proto)
	return c
}

// Issue 13, finding 1: a client that answers consent forms approved its own
// requests. Now no form is ever sent: every request waits for a person at
// the terminal, over either transport and protocol, and only their
// decision there lets anything run.
func TestYoloClientCannotConsentForItself(t *testing.T) {
	for _, tc := range []struct {
		name     string
		overHTTP bool
		proto    string
	}{
		{"in-process/" + mcp.LATEST_PROTOCOL_VERSION, false, mcp.LATEST_PROTOCOL_VERSION},
		{"in-process/2025-06-18", false, "2025-06-18"},
		{"http/" + mcp.LATEST_PROTOCOL_VERSION, true, mcp.LATEST_PROTOCOL_VERSION},
		{"http/2025-06-18", true, "2025-06-18"},
	} {
		proto := tc.proto
		t.Run(tc.name, func(t *testing.T) {
			ws := t.TempDir()
			h := newHarness(t, func(c *bridge.Config) { c.Yolo.Enabled = true })
			f := &forger{}
			h.c = dialWithForms(t, h.srv, tc.overHTTP, proto, f)
			c := h.create()

			for _, mode := range []string{"safe", "yolo"} {
				out := h.ok("enable_yolo_mode", c.as("a", map[string]any{"mode": mode, "workspace": ws, "wait_seconds": 0}))
				if out["state"] != bridge.ApprovalPending || out["approval_token"] != nil {
					t.Fatalf("%s mode without a person at the terminal: %v", mode, out)
				}
			}
			res := h.call("execute_command", c.as("a", map[string]any{"command": "echo owned > owned.txt", "wait_seconds": 0}))
			if !res.IsError {
				t.Fatalf("a command without an enablement: %s", text(res))
			}
			if len(f.asked) != 0 {
				t.Fatalf("the requesting client was shown a consent form: %q", f.asked)
			}
			if _, err := os.Stat(filepath.Join(ws, "owned.txt")); err == nil {
				t.Fatal("a command ran without a person's consent")
			}
		})
	}
}

func TestYoloOutOfBandWhenTheClientHasNoForms(t *testing.T) {
	h := newHarness(t, func(c *bridge.Config) { c.Yolo.Enabled = true; c.Yolo.Workspace = t.TempDir() })
	c := h.create()
	out := h.ok("enable_yolo_mode", c.as("a", map[string]any{"mode": "safe", "wait_seconds": 0}))
	id, _ := out["request_id"].(string)
	if out["state"] != bridge.ApprovalPending || out["approval_token"] != nil || !bridge.ValidApprovalID(id) {
		t.Fatalf("without forms the request waits for a terminal: %v", out)
	}
	if _, err := h.svc.Decide(context.Background(), id, true, "terminal user test", ""); err != nil {
		t.Fatal(err)
	}
	out = h.ok("enable_yolo_mode", c.as("a", map[string]any{"mode": "safe", "request_id": id}))
	if out["state"] != bridge.ApprovalApproved || out["approval_token"] == nil {
		t.Fatalf("after approval in a terminal: %v", out)
	}
}

// The elicitation path must not be reachable from the model's arguments:
// unknown arguments (such as a forged consent) are refused.
func TestYoloArgumentsAreStrict(t *testing.T) {
	h := newHarnessWith(t, func(c *bridge.Config) { c.Yolo.Enabled = true }, server.WithOutputSchemaValidation())
	c := h.create()
	res := h.call("enable_yolo_mode", c.as("a", map[string]any{"mode": "safe", "code": "123-456"}))
	if !res.IsError || !strings.Contains(text(res), `unknown argument "code"`) {
		t.Fatalf("extra argument: %s", text(res))
	}
	res = h.call("enable_yolo_mode", c.as("a", map[string]any{"mode": "root"}))
	if !res.IsError || !strings.Contains(text(res), "mode must be one of") {
		t.Fatalf("bad mode: %s", text(res))
	}
}

// Like every other tool, the command tools take the caller from its token
// when session_id is left out, and their results name that member.
func TestYoloToolsWithoutSessionID(t *testing.T) {
	h := newHarness(t, func(c *bridge.Config) { c.Yolo.Enabled = true; c.Yolo.Workspace = t.TempDir() })
	c := h.create()
	args := func(extra map[string]any) map[string]any {
		m := c.as("a", extra)
		delete(m, "session_id")
		return m
	}
	out := h.ok("enable_yolo_mode", args(map[string]any{"mode": "safe", "wait_seconds": 0}))
	if out["session_id"] != "a" || out["state"] != bridge.ApprovalPending {
		t.Fatalf("enable without session_id: %v", out)
	}
	id, _ := out["request_id"].(string)
	if _, err := h.svc.Decide(context.Background(), id, true, "terminal user test", ""); err != nil {
		t.Fatal(err)
	}
	out = h.ok("enable_yolo_mode", args(map[string]any{"request_id": id, "mode": "safe"}))
	if out["session_id"] != "a" || out["approval_token"] == nil {
		t.Fatalf("after approval: %v", out)
	}
	res := h.call("execute_command", args(map[string]any{"command": "ls", "approval_token": out["approval_token"]}))
	if res.IsError && strings.Contains(text(res), "session_id is required") {
		t.Fatalf("execute_command still requires session_id: %s", text(res))
	}
}
