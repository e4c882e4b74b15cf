package mcpserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/agent-bridge/agent-bridge/internal/mcpserver"
)

// A stdio frame over the limit is refused under its own id, without being
// buffered whole, and the session goes on; so is a message that is neither
// a request nor a response.
func TestStdioRefusesOversizedFrame(t *testing.T) {
	h := newHarness(t, nil)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- mcpserver.Serve(ctx, h.srv, inR, outW, slog.New(slog.DiscardHandler)) }()

	go func() {
		w := bufio.NewWriter(inW)
		w.WriteString(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}` + "\n")
		w.WriteString(`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n")
		// 3 MiB in one frame, id first as clients write it.
		w.WriteString(`{"jsonrpc":"2.0","id":"big-7","method":"tools/call","params":{"name":"send_to_partner","arguments":{"message":"`)
		chunk := strings.Repeat("x", 64<<10)
		for i := 0; i < 48; i++ {
			w.WriteString(chunk)
		}
		w.WriteString(`"}}}` + "\n")
		w.WriteString(`{"jsonrpc":"2.0","id":8,"method":"ping"}` + "\n")
		w.WriteString(`{"jsonrpc":"2.0","id":9}` + "\n") // neither request nor response
		w.Flush()
	}()

	sc := bufio.NewScanner(outR)
	sc.Buffer(nil, 1<<20)
	got := map[string]map[string]any{}
	for len(got) < 4 && sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout carried a non-frame: %q", sc.Text())
		}
		id, _ := json.Marshal(m["id"])
		got[string(id)] = m
	}
	big, ok := got[`"big-7"`]
	if !ok {
		t.Fatalf("no answer to the oversized request: %v", got)
	}
	e, _ := big["error"].(map[string]any)
	if msg, _ := e["message"].(string); e == nil || !strings.Contains(msg, "at most 1048576 bytes") || e["code"] != -32600.0 {
		t.Fatalf("oversized request answer: %v", big)
	}
	if _, ok := got["8"]["result"]; !ok {
		t.Fatalf("the session did not go on after the refusal: %v", got["8"])
	}
	if e, _ := got["9"]["error"].(map[string]any); e == nil || e["code"] != -32600.0 {
		t.Fatalf("an id-only message: %v, want -32600", got["9"])
	}
	inW.Close()
	<-done
}
