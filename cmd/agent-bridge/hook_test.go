package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hookRun runs `agent-bridge hook args...` as Claude Code would: the hook
// JSON on stdin, CLAUDE_PROJECT_DIR set, and returns stdout.
func hookRun(t *testing.T, home, db, project, event string, extra map[string]any, args ...string) string {
	t.Helper()
	in := map[string]any{
		"session_id": "3f9c2a", "transcript_path": filepath.Join(home, "t.jsonl"), "cwd": project,
		"permission_mode": "default", "hook_event_name": event,
	}
	for k, v := range extra {
		in[k] = v
	}
	raw, _ := json.Marshal(in)
	cmd := exec.Command(binary, append([]string{"hook", "--db", db}, args...)...)
	cmd.Env = append(baseEnv(home), "CLAUDE_PROJECT_DIR="+project)
	cmd.Stdin = strings.NewReader(string(raw))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hook %s: %v", event, err)
	}
	return string(out)
}

// hookStart starts the hook like hookRun and returns at once: waiting is
// closed when the hook says on stderr that it waits for a partner message,
// result receives its stdout when it exits.
func hookStart(t *testing.T, home, db, project, event string, extra map[string]any, args ...string) (waiting <-chan struct{}, result <-chan string) {
	t.Helper()
	in := map[string]any{"cwd": project, "hook_event_name": event}
	for k, v := range extra {
		in[k] = v
	}
	raw, _ := json.Marshal(in)
	cmd := exec.Command(binary, append([]string{"hook", "--db", db}, args...)...)
	cmd.Env = append(baseEnv(home), "CLAUDE_PROJECT_DIR="+project)
	cmd.Stdin = strings.NewReader(string(raw))
	var stdout strings.Builder
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w, r := make(chan struct{}), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		said := false
		for sc.Scan() {
			if !said && strings.Contains(sc.Text(), "waiting up to") {
				said = true
				close(w)
			}
		}
		cmd.Wait()
		if !said {
			close(w) // the result says what went wrong
		}
		r <- stdout.String()
	}()
	return w, r
}

func TestClaudeCodeHook(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	projA, projB := t.TempDir(), t.TempDir()
	pa := launch(t, home, projA, nil, db)
	pb := launch(t, home, projB, nil, db)
	a, b := create(pa)
	pb.ok("update_my_status", b.args(map[string]any{"status": "working"})) // b's agent works in projB

	if out := hookRun(t, home, db, projB, "UserPromptSubmit", map[string]any{"prompt": "go on"}); out != "" {
		t.Fatalf("nothing waits, yet the hook said %q", out)
	}
	pa.ok("send_to_partner", a.args(map[string]any{"message": "API is ready"}))

	var add struct {
		Specific struct {
			Event   string `json:"hookEventName"`
			Context string `json:"additionalContext"`
		} `json:"hookSpecificOutput"`
	}
	out := hookRun(t, home, db, projB, "UserPromptSubmit", map[string]any{"prompt": "go on"})
	if err := json.Unmarshal([]byte(out), &add); err != nil || add.Specific.Event != "UserPromptSubmit" ||
		!strings.Contains(add.Specific.Context, "1 unread message(s)") || !strings.Contains(add.Specific.Context, b.conv) ||
		!strings.Contains(add.Specific.Context, "you are member b (") {
		t.Fatalf("UserPromptSubmit output %q (%v)", out, err)
	}
	if strings.Contains(out, "API is ready") || strings.Contains(out, b.token) {
		t.Fatal("the hook leaked message text or a token")
	}
	// The other project's agent has nothing waiting.
	if out := hookRun(t, home, db, projA, "PostToolUse", map[string]any{"tool_name": "Bash"}); out != "" {
		t.Fatalf("project A: %q", out)
	}

	var block struct {
		Decision string `json:"decision"`
		Reason   string `json:"reason"`
	}
	out = hookRun(t, home, db, projB, "Stop", map[string]any{"stop_hook_active": false})
	if err := json.Unmarshal([]byte(out), &block); err != nil || block.Decision != "block" || !strings.Contains(block.Reason, "check_messages") {
		t.Fatalf("Stop output %q", out)
	}

	// Once read, Stop lets the agent stop; with --wait it waits for the partner.
	pb.ok("check_messages", b.args(nil))
	start := time.Now()
	if out := hookRun(t, home, db, projB, "Stop", nil, "--wait", "300ms"); out != "" || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("idle Stop with --wait: %q after %s", out, time.Since(start))
	}
	// The partner writes only once the hook says it is waiting, so this
	// checks the wake-up, not a message that was already there.
	waiting, result := hookStart(t, home, db, projB, "Stop", map[string]any{"stop_hook_active": true}, "--wait", "30s")
	<-waiting
	pa.ok("send_to_partner", a.args(map[string]any{"message": "one more"}))
	out = <-result
	if err := json.Unmarshal([]byte(out), &block); err != nil || block.Decision != "block" {
		t.Fatalf("Stop --wait did not wake for the partner: %q", out)
	}

	// Pinned to one conversation, without a project.
	out = hookRun(t, home, db, "", "SessionStart", map[string]any{"source": "startup"}, "--conversation", b.conv, "--session", "b")
	if !strings.Contains(out, "1 unread") {
		t.Fatalf("pinned SessionStart: %q", out)
	}
}

func TestHookWithoutDatabaseIsSilent(t *testing.T) {
	home := t.TempDir()
	if out := hookRun(t, home, filepath.Join(home, "none.db"), home, "Stop", nil); out != "" {
		t.Fatalf("%q", out)
	}
}

func TestWatchPrintsMessagesAsTheyArrive(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	p := launch(t, home, home, nil, db)
	a, b := create(p)
	p.ok("send_to_partner", a.args(map[string]any{"message": "first"}))

	tokenFile := filepath.Join(home, "tok")
	os.WriteFile(tokenFile, []byte(b.token+"\n"), 0o600)
	cmd := exec.Command(binary, "watch", "--db", db, "--conversation", b.conv, "--session", "b", "--token-file", tokenFile, "--json")
	cmd.Env = baseEnv(home)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := make(chan map[string]any)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			json.Unmarshal(sc.Bytes(), &m)
			lines <- m
		}
		close(lines)
	}()
	next := func() map[string]any {
		select {
		case m := <-lines:
			return m
		case <-time.After(20 * time.Second):
			t.Fatal("watch printed nothing")
			return nil
		}
	}
	if m := next(); m["message"] != "first" {
		t.Fatalf("first line %v", m)
	}
	p.ok("send_to_partner", a.args(map[string]any{"message": "second"}))
	if m := next(); m["message"] != "second" || m["from"] != "a" {
		t.Fatalf("second line %v", m)
	}
	// Watching marks nothing read.
	if got := bodies(p, b); len(got) != 2 {
		t.Fatalf("the agent lost messages to watch: %q", got)
	}
}

func TestWatchRefusesBadToken(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	p := launch(t, home, home, nil, db)
	a, _ := create(p)
	cmd := exec.Command(binary, "watch", "--db", db, "--conversation", a.conv, "--session", "b")
	cmd.Env = append(baseEnv(home), "AGENT_BRIDGE_TOKEN="+a.token)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "Invalid session token") {
		t.Fatalf("watch with a's token for b: %v %q", err, out)
	}
	if strings.Contains(string(out), a.token) {
		t.Fatal("the error shows the token")
	}
}
