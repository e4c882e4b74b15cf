package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawClient speaks MCP over a server process's stdin and stdout by hand,
// as a client that knows nothing of mcp-go would: every frame it reads,
// notifications included, arrives on frames.
type rawClient struct {
	t      *testing.T
	in     io.WriteCloser
	frames chan map[string]any
	id     int
}

func startRaw(t *testing.T, home, db string) *rawClient {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--db", db)
	cmd.Env = append(baseEnv(home), "AGENT_BRIDGE_RATE_PER_MINUTE=0")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Process.Kill(); cmd.Wait() })
	r := &rawClient{t: t, in: in, frames: make(chan map[string]any, 64)}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				r.frames <- m
			}
		}
		close(r.frames)
	}()
	return r
}

func (r *rawClient) send(msg map[string]any) {
	msg["jsonrpc"] = "2.0"
	b, _ := json.Marshal(msg)
	if _, err := r.in.Write(append(b, '\n')); err != nil {
		r.t.Fatal(err)
	}
}

// call sends a request and returns its result, keeping the notifications
// that came first in notes.
func (r *rawClient) call(method string, params map[string]any, notes *[]map[string]any) map[string]any {
	r.t.Helper()
	r.id++
	r.send(map[string]any{"id": r.id, "method": method, "params": params})
	for {
		select {
		case m, ok := <-r.frames:
			if !ok {
				r.t.Fatal("the server closed its stdout")
			}
			if id, ok := m["id"].(float64); ok && int(id) == r.id {
				res, _ := m["result"].(map[string]any)
				if res == nil {
					r.t.Fatalf("%s: %v", method, m)
				}
				return res
			}
			if notes != nil {
				*notes = append(*notes, m)
			}
		case <-time.After(20 * time.Second):
			r.t.Fatalf("%s: no answer", method)
		}
	}
}

func (r *rawClient) tool(name string, args map[string]any, notes *[]map[string]any) map[string]any {
	r.t.Helper()
	res := r.call("tools/call", map[string]any{"name": name, "arguments": args}, notes)
	if isErr, _ := res["isError"].(bool); isErr {
		r.t.Fatalf("%s failed: %v", name, res["content"])
	}
	return res["structuredContent"].(map[string]any)
}

// A stdio server declares Claude Code's channel capability and pushes each
// message for the member it serves the moment another process stores it;
// the message stays unread until check_messages takes it, exactly once.
func TestChannelPushOverStdio(t *testing.T) {
	home := t.TempDir()
	db := filepath.Join(home, "b.db")
	sender := launch(t, home, home, nil, db)
	a, b := create(sender)

	raw := startRaw(t, home, db)
	init := raw.call("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "raw", "version": "1"}}, nil)
	caps, _ := init["capabilities"].(map[string]any)
	if exp, _ := caps["experimental"].(map[string]any); exp["claude/channel"] == nil {
		t.Fatalf("the server does not declare claude/channel: %v", caps)
	}
	raw.send(map[string]any{"method": "notifications/initialized"})
	raw.tool("check_partner_status", b.args(nil), nil) // this process now serves b

	res := sender.ok("send_to_partner", a.args(map[string]any{"message": "the schema is ready"}))
	id := strconv.FormatInt(int64(res["message_id"].(float64)), 10)
	var event map[string]any
	for event == nil {
		select {
		case m := <-raw.frames:
			if m["method"] == "notifications/claude/channel" {
				event = m
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no channel event for a message stored by another process")
		}
	}
	params := event["params"].(map[string]any)
	meta, _ := params["meta"].(map[string]any)
	content, _ := params["content"].(string)
	if meta["conversation_id"] != a.conv || meta["from"] != "a" || meta["message_id"] != id ||
		!strings.Contains(content, "the schema is ready") || !strings.Contains(content, "<partner-message") {
		t.Fatalf("channel event: meta %v, content %q", meta, content)
	}
	var notes []map[string]any
	got := raw.tool("check_messages", b.args(nil), &notes)
	if msgs := got["messages"].([]any); len(msgs) != 1 || msgs[0].(map[string]any)["message"] != "the schema is ready" {
		t.Fatalf("the pushed message was not left unread for check_messages: %v", got)
	}
	for _, n := range notes {
		if n["method"] == "notifications/claude/channel" {
			t.Fatalf("the message was pushed twice: %v", n)
		}
	}
}
