package mcpserver_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// What models see of the tools is paid for on every turn and read before
// every call: a change to it must be a reviewed diff. Each tool of the
// default tools/list is pinned in testdata/toolsnaps/<tool>.json. After a
// deliberate change, regenerate them and review the diff:
//
//	UPDATE_TOOLSNAPS=1 go test -run TestToolSnapshots ./internal/mcpserver
func TestToolSnapshots(t *testing.T) {
	// The limits a real server states, not the test harness's (none).
	h := newHarness(t, func(c *bridge.Config) { c.SessionLimits = bridge.DefaultConfig().SessionLimits })
	list, err := h.c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "toolsnaps")
	update := os.Getenv("UPDATE_TOOLSNAPS") != ""
	if update {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tool := range list.Tools {
		got, err := json.MarshalIndent(tool, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join(dir, tool.Name+".json")
		if update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("tool %s has no snapshot: run UPDATE_TOOLSNAPS=1 go test -run TestToolSnapshots ./internal/mcpserver", tool.Name)
			continue
		}
		if string(got) != string(want) {
			t.Errorf("tool %s is not what %s pins: if the change is meant, regenerate with UPDATE_TOOLSNAPS=1 and review the diff", tool.Name, path)
		}
	}
	if entries, _ := os.ReadDir(dir); !update && len(entries) != len(list.Tools) {
		t.Errorf("%d snapshots for %d tools: delete the snapshots of tools that are gone", len(entries), len(list.Tools))
	}
}
