package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// planted is a password put in every PostgreSQL URL these tests pass; it
// must never appear in any output.
const planted = "s3cret-pw-7f3a"

func TestPostgresNeedsKeyFile(t *testing.T) {
	home := t.TempDir()
	db := "postgres://bridge:" + planted + "@127.0.0.1:1/bridge"
	for _, args := range [][]string{{"list", "--db", db}, {"serve", "--db", db}, {"--db", db}, {"status", "--db", db}} {
		_, stderr, code := runCLI(t, home, args...)
		if code != 2 || !strings.Contains(stderr, "--key-file") || !strings.Contains(stderr, "AGENT_BRIDGE_KEY_FILE") {
			t.Errorf("%v: code %d, %q", args, code, stderr)
		}
		if strings.Contains(stderr, planted) {
			t.Errorf("%v: the password is shown: %q", args, stderr)
		}
	}
}

// An unreachable server fails every command with the URL redacted.
func TestPostgresPasswordNeverShown(t *testing.T) {
	home := t.TempDir()
	key := filepath.Join(home, "bridge.key")
	for _, db := range []string{
		"postgres://bridge:" + planted + "@127.0.0.1:1/bridge?sslmode=disable",
		"postgresql://bridge@127.0.0.1:1/bridge?sslmode=disable&password=" + planted,
		"postgres://bridge:" + planted + "@127.0.0.1:1:2/bridge", // does not parse
	} {
		for _, args := range [][]string{{"serve", "--db", db, "--key-file", key}, {"list", "--db", db, "--key-file", key}, {"backup", "--db", db, filepath.Join(home, "copy")}} {
			stdout, stderr, code := runCLI(t, home, args...)
			if code == 0 || strings.Contains(stdout+stderr, planted) {
				t.Errorf("%v: code %d, password shown or no failure: %q", args[0], code, stderr)
			}
		}
	}
}

func TestBackupRefusesPostgres(t *testing.T) {
	_, stderr, code := runCLI(t, t.TempDir(), "backup", "--db", "postgresql://bridge@127.0.0.1:1/bridge", "dest")
	if code != 1 || !strings.Contains(stderr, "pg_dump") {
		t.Fatalf("backup: code %d, %q", code, stderr)
	}
}

// testPostgres returns the URL of a fresh database on the test server (see
// internal/store/postgres), with a password planted in it, or skips.
func testPostgres(t *testing.T) string {
	t.Helper()
	base := os.Getenv("AGENT_BRIDGE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but AGENT_BRIDGE_TEST_POSTGRES is unset; .ci/run starts a server (see .ci/postgres)")
		}
		t.Skip("set AGENT_BRIDGE_TEST_POSTGRES to a PostgreSQL URL to run the PostgreSQL command tests, e.g. AGENT_BRIDGE_TEST_POSTGRES=$(.ci/postgres start)")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "agent_bridge_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create a test database (the role in AGENT_BRIDGE_TEST_POSTGRES needs CREATEDB): %v", err)
	}
	t.Cleanup(func() {
		admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close(ctx)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	if _, has := u.User.Password(); !has {
		u.User = url.UserPassword(u.User.Username(), planted) // trust auth ignores it
	}
	return u.String()
}

// Every command that opens the database works on PostgreSQL, and two
// server processes on it wake each other.
func TestCommandsOnPostgres(t *testing.T) {
	db := testPostgres(t)
	home := t.TempDir()
	key := filepath.Join(home, "shared.key")
	sender := launch(t, home, home, nil, "--db", db, "--key-file", key)
	waiter := launch(t, home, home, []string{"AGENT_BRIDGE_DB=" + db, "AGENT_BRIDGE_KEY_FILE=" + key,
		"AGENT_BRIDGE_RATE_PER_MINUTE=0", "AGENT_BRIDGE_RATE_PER_HOUR=0", "AGENT_BRIDGE_RATE_PER_DAY=0"})
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	a, b := create(sender)

	got := make(chan map[string]any, 1)
	go func() { got <- waiter.ok("check_messages", b.args(map[string]any{"wait_seconds": 30})) }()
	time.Sleep(100 * time.Millisecond)
	sender.ok("send_to_partner", a.args(map[string]any{"message": "across processes", "files_involved": []any{"x.go"}}))
	select {
	case out := <-got:
		if msgs := out["messages"].([]any); len(msgs) != 1 || msgs[0].(map[string]any)["message"] != "across processes" {
			t.Fatalf("waiter got %v", out)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the waiter in the other process did not wake")
	}
	sender.ok("send_to_partner", b.args(map[string]any{"message": "unread reply"}))
	sender.ok("update_my_status", a.args(map[string]any{"status": "waiting"}))

	// watch prints the messages addressed to a, then a new one as it lands.
	tokenFile := filepath.Join(home, "tok")
	os.WriteFile(tokenFile, []byte(a.token), 0o600)
	watch := exec.Command(binary, "watch", "--db", db, "--key-file", key, "--conversation", a.conv, "--session", "a", "--token-file", tokenFile, "--json")
	watch.Env = baseEnv(home)
	var watchErr syncBuffer
	watch.Stderr = &watchErr
	stdout, _ := watch.StdoutPipe()
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { watch.Process.Kill(); watch.Wait() }()
	lines := bufio.NewScanner(stdout)
	next := func() map[string]any {
		line := make(chan map[string]any, 1)
		go func() {
			var m map[string]any
			if lines.Scan() {
				json.Unmarshal(lines.Bytes(), &m)
			}
			line <- m
		}()
		select {
		case m := <-line:
			return m
		case <-time.After(20 * time.Second):
			t.Fatalf("watch printed nothing; stderr %q", watchErr.String())
			return nil
		}
	}
	if m := next(); m["message"] != "unread reply" {
		t.Fatalf("watch: first line %v", m)
	}
	waiter.ok("send_to_partner", b.args(map[string]any{"message": "watched"}))
	if m := next(); m["message"] != "watched" {
		t.Fatalf("watch: second line %v", m)
	}

	exp := filepath.Join(home, "c.jsonl")
	k := []string{"--db", db, "--key-file", key}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"list"}, a.conv},
		{[]string{"show", a.conv}, "across processes"},
		{[]string{"status"}, "waiting"},
		{[]string{"tokens", a.conv}, b.token},
		{[]string{"extend", a.conv, "--by", "1h"}, a.conv},
		{[]string{"cleanup"}, "0"},
		{[]string{"export", a.conv, "--out", exp}, ""},
		{[]string{"import", exp, "--rename", "--json"}, "conversation_id"},
		{[]string{"audit", "-n", "0"}, "send_to_partner"},
		{[]string{"audit", "--verify"}, "intact"},
		{[]string{"approve", "--list"}, ""},
	} {
		stdout, stderr, code := runCLI(t, home, append(c.args, k...)...)
		if code != 0 || !strings.Contains(stdout, c.want) {
			t.Errorf("%v: code %d, stdout %q, stderr %q", c.args, code, stdout, stderr)
		}
		if strings.Contains(stdout+stderr, planted) {
			t.Errorf("%v shows the password", c.args)
		}
	}

	// watchdog runs until interrupted: read its first event.
	wd := exec.Command(binary, append([]string{"watchdog", "--silent-after", "100ms", "--interval", "200ms", "--json"}, k...)...)
	wd.Env = baseEnv(home)
	wdOut, _ := wd.StdoutPipe()
	if err := wd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { wd.Process.Kill(); wd.Wait() }()
	lines = bufio.NewScanner(wdOut)
	if m := next(); m["event"] != "silent" {
		t.Errorf("watchdog: first event %v", m)
	}

	// The hook finds the agent's pending message by its working directory.
	hook := exec.Command(binary, "hook", "--db", db, "--key-file", key)
	hook.Env = append(baseEnv(home), "CLAUDE_PROJECT_DIR="+home)
	hook.Stdin = strings.NewReader(`{"hook_event_name":"UserPromptSubmit","cwd":"` + home + `"}`)
	out, err := hook.CombinedOutput()
	if err != nil || !strings.Contains(string(out), a.conv) {
		t.Errorf("hook: %v %q", err, out)
	}

	if _, stderr, code := runCLI(t, home, append([]string{"backup", filepath.Join(home, "copy")}, k...)...); code != 1 || !strings.Contains(stderr, "pg_dump") {
		t.Errorf("backup: code %d, %q", code, stderr)
	}
	sender.close()
	waiter.close()
	if logs := sender.stderr.String() + waiter.stderr.String() + watchErr.String(); strings.Contains(logs, planted) {
		t.Errorf("a server log shows the password")
	} else if !strings.Contains(sender.stderr.String(), "xxxxx@127.0.0.1") {
		t.Errorf("the server does not log where its database is: %q", sender.stderr.String())
	}
}
