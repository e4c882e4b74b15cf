//go:build linux

package main

// The out-of-band consent of YOLO mode, end to end: an agent's server
// waits in enable_yolo_mode while a person runs `agent-bridge approve` on a
// terminal. The terminal here is a real pseudo-terminal, scripted the way
// a person would use it: read the code off the screen, type it back.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here (%v): the scripted approval needs /dev/ptmx", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	return m, s
}

// waitFor waits until the buffer (a terminal's screen) shows want.
func (s *syncBuffer) waitFor(t *testing.T, want string) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if v := s.String(); strings.Contains(v, want) {
			return v
		}
	}
	t.Fatalf("the terminal never showed %q; it shows:\n%s", want, s.String())
	return ""
}

var shownRe = regexp.MustCompile(`type the phrase "([^"]+)", then the code (\d{3}-\d{3})`)

// approveOnTerminal runs `agent-bridge approve` on a pseudo-terminal and
// answers like a person; answer gets the phrase and code shown and returns
// what to type. It returns the screen and the exit error.
func approveOnTerminal(t *testing.T, home, db string, answer func(phrase, code string) (string, string), args ...string) (string, error) {
	t.Helper()
	return approveOnTerminalAfter(t, home, db, answer, nil, args...)
}

// startOnTerminal starts the binary with args in a new session whose
// controlling terminal is a fresh pseudo-terminal, as a person runs it, and
// returns the process and the terminal's master side.
func startOnTerminal(t *testing.T, home string, args ...string) (*exec.Cmd, *os.File) {
	t.Helper()
	master, slave := openPTY(t)
	cmd := exec.Command(binary, args...)
	cmd.Env = baseEnv(home)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		master.Close()
		slave.Close()
		t.Fatal(err)
	}
	slave.Close()
	return cmd, master
}

// approveOnTerminalAfter is approveOnTerminal that calls ready, if set,
// once approve shows it is waiting for a request.
func approveOnTerminalAfter(t *testing.T, home, db string, answer func(phrase, code string) (string, string), ready func(), args ...string) (string, error) {
	t.Helper()
	cmd, master := startOnTerminal(t, home, append([]string{"approve", "--db", db}, args...)...)
	defer master.Close()
	scr := &syncBuffer{}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			scr.Write(buf[:n])
			if err != nil {
				return // EIO once no process holds the terminal open
			}
		}
	}()
	if ready != nil {
		scr.waitFor(t, "waiting up to")
		ready()
	}
	m := shownRe.FindStringSubmatch(scr.waitFor(t, "Phrase: "))
	if m == nil {
		cmd.Process.Kill()
		t.Fatalf("no phrase and code on the screen:\n%s", scr)
	}
	phrase, code := answer(m[1], m[2])
	fmt.Fprintf(master, "%s\n", phrase)
	if phrase != "" {
		scr.waitFor(t, "Code: ")
		fmt.Fprintf(master, "%s\n", code)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		<-drained // the last lines are read once approve has closed the terminal
		return scr.String(), err
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("approve did not finish; the terminal shows:\n%s", scr)
	}
	return "", nil
}

// pendingIDs lists the requests waiting for a person.
func pendingIDs(t *testing.T, home, db string) []string {
	t.Helper()
	out, errOut, code := runCLI(t, home, "approve", "--db", db, "--list", "--json")
	if code != 0 {
		t.Fatalf("approve --list: %s", errOut)
	}
	var rows []struct{ ID, State string }
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("approve --list --json: %v: %s", err, out)
	}
	var ids []string
	for _, r := range rows {
		if r.State == "pending" {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func waitPending(t *testing.T, home, db string) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ids := pendingIDs(t, home, db); len(ids) == 1 {
			return ids[0]
		}
	}
	t.Fatal("no pending request appeared")
	return ""
}

func TestApproveOnATerminal(t *testing.T) {
	home, ws := t.TempDir(), t.TempDir()
	db := filepath.Join(home, "bridge.db")
	if err := os.WriteFile(filepath.Join(ws, "plan.md"), []byte("the plan\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"AGENT_BRIDGE_RATE_PER_MINUTE=0", "AGENT_BRIDGE_RATE_PER_HOUR=0", "AGENT_BRIDGE_RATE_PER_DAY=0", "YOLO_MODE=1"}
	p := launch(t, home, ws, env, "--db", db)
	a, b := create(p)

	enable := func() chan *mcp.CallToolResult {
		ch := make(chan *mcp.CallToolResult, 1)
		go func() {
			res, err := p.call("enable_yolo_mode", a.args(map[string]any{"mode": "safe", "workspace": ws, "wait_seconds": 25}))
			if err != nil {
				t.Error(err)
			}
			ch <- res
		}()
		return ch
	}

	// Without a terminal nothing can be approved: a pipe is not a person.
	pending := enable()
	id := waitPending(t, home, db)
	cmd := exec.Command(binary, "approve", "--db", db)
	cmd.Env = baseEnv(home)
	cmd.Stdin = strings.NewReader("enable safe mode\n000-000\n")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "must be run by a person in a terminal") {
		t.Fatalf("approve without a terminal: %v\n%s", err, out)
	}
	if ids := pendingIDs(t, home, db); len(ids) != 1 || ids[0] != id {
		t.Fatalf("after a refused approve the request should still wait: %v", ids)
	}

	// A wrong code on the terminal denies the request, and the waiting
	// agent is told.
	scr, err := approveOnTerminal(t, home, db, func(phrase, code string) (string, string) {
		return phrase, strings.NewReplacer("0", "1", "1", "2", "2", "3", "3", "4", "4", "5", "5", "6", "6", "7", "7", "8", "8", "9", "9", "0").Replace(code)
	})
	if err == nil || !strings.Contains(scr, "Denied") {
		t.Fatalf("wrong code: %v\n%s", err, scr)
	}
	if res := <-pending; !res.IsError || !strings.Contains(text(res), "code typed did not match") {
		t.Fatalf("the agent after a wrong code: %s", text(res))
	}

	// The right phrase and code approve it; the person saw what was asked.
	// Here the person starts approve first, and it waits for the request.
	scr, err = approveOnTerminalAfter(t, home, db, func(phrase, code string) (string, string) { return phrase, code },
		func() { pending = enable() }, "--wait", "20s")
	if err != nil {
		t.Fatalf("approve: %v\n%s", err, scr)
	}
	for _, want := range []string{a.conv, "Session a", "mode:      safe", ws, "Approved"} {
		if !strings.Contains(scr, want) {
			t.Errorf("the terminal did not show %q:\n%s", want, scr)
		}
	}
	res := <-pending
	if res.IsError {
		t.Fatalf("enable after approval: %s", text(res))
	}
	var got struct {
		State         string `json:"state"`
		ApprovalToken string `json:"approval_token"`
	}
	raw, _ := json.Marshal(res.StructuredContent)
	json.Unmarshal(raw, &got)
	if got.State != "approved" || got.ApprovalToken == "" {
		t.Fatalf("enable after approval: %s", raw)
	}
	code := shownRe.FindStringSubmatch(scr)[2]
	if strings.Contains(text(res), code) || strings.Contains(string(raw), code) {
		t.Fatal("the code shown on the terminal reached the agent")
	}

	ran := p.ok("execute_command", a.args(map[string]any{"command": "cat plan.md", "approval_token": got.ApprovalToken}))
	if !strings.Contains(ran["output"].(string), "the plan") {
		t.Fatalf("execute_command: %v", ran)
	}
	if got := bodies(p, b); len(got) != 1 || !strings.Contains(got[0], "the plan") {
		t.Fatalf("the partner's copy: %q", got)
	}
	// The approval stays in the database: a second server process of the
	// same agent runs commands without asking again, and --revoke ends it.
	p2 := launch(t, home, ws, env, "--db", db)
	p2.ok("execute_command", a.args(map[string]any{"command": "ls"}))
	if _, errOut, code := runCLI(t, home, "approve", "--db", db, "--revoke", waitID(t, home, db)); code != 0 {
		t.Fatalf("revoke: %s", errOut)
	}
	if res, err := p2.call("execute_command", a.args(map[string]any{"command": "ls"})); err != nil || !res.IsError {
		t.Fatalf("a revoked enablement still runs commands: %v %v", res, err)
	}
}

// waitID returns the id of the one enablement in force.
func waitID(t *testing.T, home, db string) string {
	t.Helper()
	out, _, _ := runCLI(t, home, "approve", "--db", db, "--list", "--json")
	var rows []struct{ ID, State string }
	json.Unmarshal([]byte(out), &rows)
	for _, r := range rows {
		if r.State == "active" {
			return r.ID
		}
	}
	t.Fatalf("no active enablement in %s", out)
	return ""
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

func TestBridgeFilesHiddenFromTheSandbox(t *testing.T) {
	t.Chdir(t.TempDir())
	wd, _ := os.Getwd()
	got := bridgeFiles("b.db", "b.db.key")
	want := []string{wd + "/b.db.key", wd + "/b.db", wd + "/b.db-wal", wd + "/b.db-shm", wd + "/b.db-notify.d", wd + "/b.db-write.lock", wd}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("SQLite: %q, want %q", got, want)
	}
	if got := bridgeFiles("postgres://bridge:pw@db/bridge", "/etc/team.key"); len(got) != 1 || got[0] != "/etc/team.key" {
		t.Errorf("PostgreSQL with a key in a top-level directory: %q, want only the key file", got)
	}
	if got := bridgeFiles("postgres://bridge:pw@db/bridge", "/srv/bridge/team.key"); strings.Join(got, " ") != "/srv/bridge/team.key /srv/bridge" {
		t.Errorf("PostgreSQL: %q, want the key file and its directory", got)
	}
	home, _ := os.UserHomeDir()
	for _, p := range bridgeFiles(filepath.Join(home, "b.db"), filepath.Join(home, "b.db.key")) {
		if p == home {
			t.Errorf("the home directory is hidden: %q", p)
		}
	}
}
