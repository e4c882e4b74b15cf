package main

import (
	"path/filepath"
	"testing"
)

func TestDefaultDBPathPerPlatform(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, c := range []struct {
		name, goos string
		getenv     func(string) string
		want       string // "" means an error
	}{
		{"linux XDG", "linux", env("XDG_STATE_HOME", "/x/state", "HOME", "/h"), "/x/state/agent-bridge/bridge.db"},
		{"linux relative XDG is ignored", "linux", env("XDG_STATE_HOME", "relative", "HOME", "/h"), "/h/.local/state/agent-bridge/bridge.db"},
		{"linux HOME", "linux", env("HOME", "/h"), "/h/.local/state/agent-bridge/bridge.db"},
		{"freebsd like linux", "freebsd", env("HOME", "/h"), "/h/.local/state/agent-bridge/bridge.db"},
		{"macOS", "darwin", env("HOME", "/Users/u", "XDG_STATE_HOME", "/x"), "/Users/u/Library/Application Support/agent-bridge/bridge.db"},
		{"windows", "windows", env("LocalAppData", `C:\Users\u\AppData\Local`, "HOME", "/h"), filepath.Join(`C:\Users\u\AppData\Local`, "agent-bridge", "bridge.db")},
		{"windows without LocalAppData", "windows", env("HOME", "/h"), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := defaultDBPath(c.goos, c.getenv)
			if c.want == "" {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestDBFlagBeatsDefault(t *testing.T) {
	o := &options{db: "/given.db"}
	if p, err := o.dbPath(func(string) string { return "" }); err != nil || p != "/given.db" {
		t.Fatalf("got %q, %v", p, err)
	}
}
