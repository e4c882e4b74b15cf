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

// person answers consent forms: it reads the phrase and code from the
// message, as someone reading the client's form would.
type person struct {
	mu       sync.Mutex
	asked    []string
	decline  bool
	typeCode func(shown string) string
}

var formRe = regexp.MustCompile(`type the phrase "([^"]+)" and the one-time code (\d{3}-\d{3})`)

func (p *person) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, req.Params.Message)
	m := formRe.FindStringSubmatch(req.Params.Message)
	if m == nil || p.decline {
		return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}, nil
	}
	code := m[2]
	if p.typeCode != nil {
		code = p.typeCode(code)
	}
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{
		Action:  mcp.ElicitationResponseActionAccept,
		Content: map[string]any{"phrase": m[1], "code": code},
	}}, nil
}

// dialWithForms connects a client that shows consent forms to p, in
// process or over Streamable HTTP, speaking proto.
func dialWithForms(t *testing.T, srv *server.MCPServer, overHTTP bool, proto string, p *person) *client.Client {
	t.Helper()
	if !overHTTP {
		return connect(t, srv, client.WithElicitationHandler(p), client.WithProtocolVersion(proto))
	}
	url, _ := serveHTTP(t, srv, mcpserver.HTTPConfig{})
	tr, err := transport.NewStreamableHTTP(url)
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr, client.WithElicitationHandler(p), client.WithProtocolVersion(proto))
	t.Cleanup(func() { c.Close() })
	start(t, c, proto)
	return c
}

func TestYoloConsentThroughTheClientsForm(t *testing.T) {
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
			if err := os.WriteFile(filepath.Join(ws, "README"), []byte("workspace readme\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, func(c *bridge.Config) { c.Yolo.Enabled = true })
			p := &person{}
			h.c = dialWithForms(t, h.srv, tc.overHTTP, proto, p)
			c := h.create()

			out := h.ok("enable_yolo_mode", c.as("a", map[string]any{"mode": "safe", "workspace": ws}))
			tok, _ := out["approval_token"].(string)
			if out["state"] != bridge.ApprovalApproved || tok == "" {
				t.Fatalf("after the person's consent: %v", out)
			}
			if len(p.asked) != 1 || !strings.Contains(p.asked[0], c.id) || !strings.Contains(p.asked[0], ws) {
				t.Fatalf("the person was not shown the request: %q", p.asked)
			}
			code := formRe.FindStringSubmatch(p.asked[0])[2]
			res := h.call("enable_yolo_mode", c.as("a", map[string]any{"mode": "safe", "request_id": out["request_id"]}))
			for _, seen := range []string{text(res), tok} {
				if strings.Contains(seen, code) || strings.Contains(seen, strings.ReplaceAll(code, "-", "")) {
					t.Fatalf("the one-time code reached the agent: %q", seen)
				}
			}

			ran := h.ok("execute_command", c.as("a", map[string]any{"command": "cat README", "approval_token": tok}))
			if ran["exit_code"] != float64(0) || !strings.Contains(ran["output"].(string), "workspace readme") {
				t.Fatalf("execute_command: %v", ran)
			}
			again := h.call("execute_command", c.as("a", map[string]any{"command": "cat README", "approval_token": tok}))
			if !again.IsError || !strings.Contains(text(again), "already used") {
				t.Fatalf("a reused approval token: %s", text(again))
			}
			inbox := h.ok("check_messages", c.as("b", nil))
			if msgs, _ := inbox["messages"].([]any); len(msgs) != 1 {
				t.Fatalf("partner's inbox: %v", inbox)
			}

			// yolo mode asks again for each command, showing it.
			yo := h.ok("enable_yolo_mode", c.as("a", map[string]any{"mode": "yolo", "workspace": ws}))
			h.ok("execute_command", c.as("a", map[string]any{"command": "echo hi > out.txt", "approval_token": yo["approval_token"]}))
			if last := p.asked[len(p.asked)-1]; !strings.Contains(last, "echo hi > out.txt") {
				t.Fatalf("the person was not shown the command: %q", last)
			}
			if b, err := os.ReadFile(filepath.Join(ws, "out.txt")); err != nil || string(b) != "hi\n" {
				t.Fatalf("out.txt = %q, %v", b, err)
			}

			// A wrong code or a refusal denies, and nothing runs.
			p.typeCode = func(shown string) string { return strings.Replace(shown, shown[:1], string('1'+(shown[0]-'0'+1)%9), 1) }
			res = h.call("execute_command", c.as("a", map[string]any{"command": "echo bad > bad.txt"}))
			if !res.IsError || !strings.Contains(text(res), "code") {
				t.Fatalf("wrong code: %s", text(res))
			}
			p.typeCode, p.decline = nil, true
			res = h.call("enable_yolo_mode", c.as("a", map[string]any{"mode": "restricted", "workspace": ws}))
			if !res.IsError || !strings.Contains(text(res), "declined") {
				t.Fatalf("declined: %s", text(res))
			}
			if _, err := os.Stat(filepath.Join(ws, "bad.txt")); err == nil {
				t.Fatal("a command ran without consent")
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
