package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestListenAddr(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"8765", "127.0.0.1:8765", ""},
		{":8765", "127.0.0.1:8765", ""},
		{"0.0.0.0:8765", "0.0.0.0:8765", ""},
		{"localhost:0", "localhost:0", ""},
		{"[::1]:8765", "[::1]:8765", ""},
		{"node1.lan:443", "node1.lan:443", ""},
		{"bad", "", "want host:port"},
		{"host:port", "", "the port must be a number"},
		{"127.0.0.1:99999", "", "the port must be a number"},
	} {
		got, err := listenAddr(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("listenAddr(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("listenAddr(%q) error %v; want %q", tc.in, err, tc.err)
		}
	}
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	const secret = "0123456789abcdef0123"
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	if tok, err := readTokenFile(write("ok", secret+"\n", 0o600)); err != nil || string(tok) != secret {
		t.Fatalf("good file: %q %v", tok, err)
	}
	for name, tc := range map[string]struct {
		path string
		want string
	}{
		"group readable": {write("g", secret, 0o640), "chmod 600"},
		"world readable": {write("w", secret, 0o644), "mode 0644"},
		"short":          {write("s", "abc", 0o600), "at least 16"},
		"two words":      {write("two", secret+" "+secret, 0o600), "one line"},
		"missing":        {filepath.Join(dir, "none"), "no such file"},
	} {
		_, err := readTokenFile(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error shows the secret", name)
		}
	}
}

// A node reachable beyond this machine requires invites whatever the flag
// says; on loopback the flag decides.
func TestRequireInvitesBeyondLoopback(t *testing.T) {
	for _, c := range []struct {
		addr string
		flag bool
		want bool
	}{
		{"127.0.0.1:0", false, false},
		{"127.0.0.1:0", true, true},
		{"0.0.0.0:0", false, true},
		{"", false, false}, // stdio
	} {
		o, _, err := parse(env{getenv: func(string) string { return "" }}, "serve", []string{"--http", c.addr})
		if c.addr == "" {
			o, _, err = parse(env{getenv: func(string) string { return "" }}, "serve", nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		o.requireInvites = c.flag
		if err := o.http.check(); err != nil {
			t.Fatal(err)
		}
		cfg, err := o.config()
		if err != nil || cfg.RequireInvites != c.want {
			t.Errorf("--http %q --require-invites=%v: RequireInvites %v (%v), want %v", c.addr, c.flag, cfg.RequireInvites, err, c.want)
		}
	}
}
