package main

// End-to-end tests: the built binary as a subprocess, driven by mcp-go's
// stdio client, as an MCP client launches it.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

var binary string // built by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "agent-bridge-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "agent-bridge")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects a subprocess's stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type proc struct {
	t      testing.TB
	c      *client.Client
	cmd    *exec.Cmd
	stderr *syncBuffer
}

// baseEnv is a minimal environment with HOME in a temporary directory, so
// no test touches the real per-user database.
func baseEnv(home string) []string {
	return []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
}

// launch launches the binary with args as an MCP server and initializes a
// client. Rate limits are off unless args set them.
func launch(t testing.TB, home, dir string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, stderr: &syncBuffer{}}
	if env == nil {
		env = []string{"AGENT_BRIDGE_RATE_PER_MINUTE=0", "AGENT_BRIDGE_RATE_PER_HOUR=0", "AGENT_BRIDGE_RATE_PER_DAY=0"}
	}
	c, err := client.NewStdioMCPClientWithOptions(binary, env, args,
		transport.WithCommandFunc(func(ctx context.Context, command string, env []string, args []string) (*exec.Cmd, error) {
			cmd := exec.Command(command, args...)
			cmd.Env = append(baseEnv(home), env...)
			cmd.Dir = dir
			p.cmd = cmd
			return cmd, nil
		}),
		transport.WithCommandStderrWriter(p.stderr),
	)
	if err != nil {
		t.Fatal(err)
	}
	p.c = c
	t.Cleanup(func() { p.close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	req.Params.ClientInfo = mcp.Implementation{Name: "e2e", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		t.Fatalf("initialize: %v; stderr:\n%s", err, p.stderr)
	}
	return p
}

func (p *proc) close() { p.c.Close() }

func (p *proc) kill9() {
	p.cmd.Process.Kill()
	p.cmd.Wait()
	p.c.Close()
}

func (p *proc) call(name string, args map[string]any) (*mcp.CallToolResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	return p.c.CallTool(ctx, req)
}

func (p *proc) ok(name string, args map[string]any) map[string]any {
	p.t.Helper()
	res, err := p.call(name, args)
	if err != nil {
		p.t.Fatalf("%s: %v; stderr:\n%s", name, err, p.stderr)
	}
	if res.IsError {
		p.t.Fatalf("%s failed: %v", name, res.Content)
	}
	raw := res.RawStructuredContent
	if len(raw) == 0 {
		raw, _ = json.Marshal(res.StructuredContent)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		p.t.Fatal(err)
	}
	return m
}

type session struct {
	conv, id, token string
}

func (s session) args(extra map[string]any) map[string]any {
	m := map[string]any{"conversation_id": s.conv, "token": s.token}
	if s.id != "" {
		m["session_id"] = s.id // omitted: the token names the member
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func create(p *proc) (a, b session) {
	out := p.ok("create_conversation", map[string]any{"my_role": "backend_dev", "partner_role": "frontend_dev"})
	id := out["conversation_id"].(string)
	return session{id, "a", out["session_a_token"].(string)}, session{id, "b", out["session_b_token"].(string)}
}

func bodies(p *proc, s session) []string {
	p.t.Helper()
	var out []string
	for more := true; more; {
		res := p.ok("check_messages", s.args(nil))
		for _, m := range res["messages"].([]any) {
			out = append(out, m.(map[string]any)["message"].(string))
		}
		more = res["unread_messages"].(float64) > 0 // a page at a time
	}
	return out
}

func TestTwoProcessesShareOneDatabase(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	db := filepath.Join(dir, "bridge.db")
	// Both launch forms: serve --db PATH, and the original's positional PATH.
	p1 := launch(t, home, t.TempDir(), nil, "serve", "--db", db)
	p2 := launch(t, home, t.TempDir(), nil, db)
	a, b := create(p1)
	p1.ok("send_to_partner", a.args(map[string]any{"message": "hello from a"}))
	p2.ok("update_my_status", b.args(map[string]any{"status": "working"}))
	if got := bodies(p2, b); len(got) != 1 || got[0] != "hello from a" {
		t.Fatalf("b got %q", got)
	}
	st := p1.ok("check_partner_status", a.args(nil))
	if st["status"] != "working" || st["alive"] != true {
		t.Fatalf("partner status across processes: %v", st)
	}
	p2.ok("send_to_partner", b.args(map[string]any{"message": "hello from b"}))
	if got := bodies(p1, a); len(got) != 1 || got[0] != "hello from b" {
		t.Fatalf("a got %q", got)
	}
}

func TestDefaultDatabaseIsSharedAcrossFolders(t *testing.T) {
	home := t.TempDir()
	p1 := launch(t, home, t.TempDir(), nil)
	p2 := launch(t, home, t.TempDir(), nil, "serve")
	a, b := create(p1)
	p1.ok("send_to_partner", a.args(map[string]any{"message": "found you"}))
	if got := bodies(p2, b); len(got) != 1 {
		t.Fatalf("second folder did not reach the first's conversation: %q", got)
	}
	path := filepath.Join(home, ".local", "state", "agent-bridge", "bridge.db")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("default database: %v", err)
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state directory mode: %v %v", fi.Mode(), err)
	}
}

func TestRestartKeepsTokensValid(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	p1 := launch(t, home, home, nil, db)
	a, b := create(p1)
	p1.ok("send_to_partner", a.args(map[string]any{"message": "before restart"}))
	p1.close()
	p2 := launch(t, home, home, nil, db)
	if got := bodies(p2, b); len(got) != 1 || got[0] != "before restart" {
		t.Fatalf("after restart: %q", got)
	}
	p2.ok("update_my_status", a.args(map[string]any{"status": "complete"}))
	res, err := p2.call("check_messages", b.args(map[string]any{"token": a.token}))
	if err != nil || !res.IsError {
		t.Fatalf("a's token worked for b after restart: %v %v", res, err)
	}
}

// The rate limit lives in the database: relaunching the server does not
// reset it.
func TestRateLimitSurvivesRelaunch(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	env := []string{"AGENT_BRIDGE_RATE_PER_MINUTE=2"}
	p1 := launch(t, home, home, env, db)
	a, _ := create(p1)
	p1.ok("check_messages", a.args(nil))
	p1.ok("check_messages", a.args(nil))
	p1.close()
	p2 := launch(t, home, home, env, db)
	res, err := p2.call("check_messages", a.args(nil))
	if err != nil || !res.IsError || !strings.Contains(fmt.Sprint(res.Content), "2 requests per minute") {
		t.Fatalf("third call after relaunch: %v %v", res, err)
	}
}

// kill -9 of a sender's server in the middle of sends, repeatedly: every
// acknowledged message is delivered, once, in order.
func TestKill9LosesNoAcknowledgedMessage(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	setup := launch(t, home, home, nil, db)
	a, b := create(setup)
	setup.close()

	var s sender
	for round := 0; round < 5; round++ {
		p := launch(t, home, home, nil, db)
		stop := s.start(p, a, round)
		time.Sleep(time.Duration(100+round*37) * time.Millisecond)
		p.kill9()
		stop()
	}
	r := launch(t, home, home, nil, db)
	got := bodies(r, b)
	checkAcknowledged(t, s.acked, got)
	t.Logf("%d acknowledged sends over 5 kills, %d delivered", len(s.acked), len(got))
}

// A take commits without waiting for the disk, but a crash of the process
// that made it keeps it: messages taken just before kill -9 are not
// delivered again, by a waiting take or by a plain one.
func TestKill9AfterATakeDeliversNothingTwice(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	sender := launch(t, home, home, nil, db)
	a, b := create(sender)
	for round, wait := range []bool{false, true} {
		body := fmt.Sprint("taken in round ", round)
		receiver := launch(t, home, home, nil, db)
		args := b.args(nil)
		if wait {
			args["wait_seconds"] = 30
		}
		got := make(chan map[string]any, 1)
		go func() { got <- receiver.ok("check_messages", args) }()
		sender.ok("send_to_partner", a.args(map[string]any{"message": body}))
		res := <-got
		if msgs := res["messages"].([]any); len(msgs) == 0 {
			// The plain check ran before the send: take it now.
			res = receiver.ok("check_messages", b.args(nil))
		}
		if msgs := res["messages"].([]any); len(msgs) != 1 || msgs[0].(map[string]any)["message"] != body {
			t.Fatalf("round %d: took %v", round, res["messages"])
		}
		receiver.kill9()
		after := launch(t, home, home, nil, db)
		if again := bodies(after, b); len(again) != 0 {
			t.Fatalf("round %d: delivered again after kill -9 of the process that took it: %q", round, again)
		}
		after.close()
	}
}

// sender sends numbered messages through one process until stopped,
// keeping the bodies that were acknowledged: a call cut off by a kill is
// not.
type sender struct {
	mu    sync.Mutex
	seq   int
	acked []string
}

// start sends from a goroutine; the returned stop waits for it to end.
func (s *sender) start(p *proc, a session, round int) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			s.mu.Lock()
			s.seq++
			body := fmt.Sprintf("round %d message %06d", round, s.seq)
			s.mu.Unlock()
			res, err := p.call("send_to_partner", a.args(map[string]any{"message": body}))
			if err != nil {
				return // killed mid-call: not acknowledged
			}
			if !res.IsError {
				s.mu.Lock()
				s.acked = append(s.acked, body)
				s.mu.Unlock()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// count returns how many sends were acknowledged so far.
func (s *sender) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.acked) }

// checkAcknowledged: every acknowledged message was delivered, in order,
// exactly once; an unacknowledged send may or may not have committed, but
// is never delivered twice.
func checkAcknowledged(t *testing.T, acked, got []string) {
	t.Helper()
	if len(acked) == 0 {
		t.Fatal("no send was acknowledged")
	}
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g] {
			t.Fatalf("duplicated %q", g)
		}
		seen[g] = true
	}
	i := 0
	for _, g := range got {
		if i < len(acked) && g == acked[i] {
			i++
		}
	}
	if i != len(acked) {
		t.Fatalf("%d acknowledged, only %d delivered in order (first missing %q)", len(acked), i, acked[i])
	}
}

// Pairs of processes exchange messages concurrently; each message arrives
// exactly once and in order, even with two processes of the same receiving
// session checking at once.
func TestConcurrentPairsExactlyOnce(t *testing.T) {
	const pairs, perPair = 5, 200
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	type pair struct {
		mu  sync.Mutex
		got []string
	}
	ps := make([]*pair, pairs)
	var wg sync.WaitGroup
	errs := make(chan error, pairs*3)
	for pi := range ps {
		ps[pi] = &pair{}
		pr := ps[pi]
		sender := launch(t, home, home, nil, db)
		a, b := create(sender)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perPair; i++ {
				res, err := sender.call("send_to_partner", a.args(map[string]any{"message": fmt.Sprintf("%03d", i)}))
				if err != nil || res.IsError {
					errs <- fmt.Errorf("send %d: %v %v", i, err, res)
					return
				}
			}
		}()
		for range 2 {
			r := launch(t, home, home, nil, db)
			wg.Add(1)
			go func() {
				defer wg.Done()
				last := ""
				for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); {
					res, err := r.call("check_messages", b.args(nil))
					if err != nil || res.IsError {
						errs <- fmt.Errorf("check: %v %v", err, res)
						return
					}
					var out struct {
						Messages []struct{ Message string } `json:"messages"`
					}
					raw, _ := json.Marshal(res.StructuredContent)
					if err := json.Unmarshal(raw, &out); err != nil {
						errs <- err
						return
					}
					// Each receiver sees increasing messages: within a batch
					// and from one batch to its next. (Two receivers' batches
					// may arrive in either order.)
					for _, m := range out.Messages {
						if m.Message <= last {
							errs <- fmt.Errorf("%s delivered after %s", m.Message, last)
						}
						last = m.Message
					}
					pr.mu.Lock()
					for _, m := range out.Messages {
						pr.got = append(pr.got, m.Message)
					}
					n := len(pr.got)
					pr.mu.Unlock()
					if n >= perPair {
						return
					}
					if len(out.Messages) == 0 {
						time.Sleep(5 * time.Millisecond)
					}
				}
				errs <- fmt.Errorf("timed out")
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, pr := range ps {
		seen := map[string]bool{}
		for _, g := range pr.got {
			if seen[g] {
				t.Errorf("pair %d: %q delivered twice", i, g)
			}
			seen[g] = true
		}
		if len(seen) != perPair {
			t.Errorf("pair %d: %d distinct of %d delivered", i, len(seen), perPair)
		}
	}
}

// stdout carries nothing but JSON-RPC frames, even when a call fails and the
// server logs.
func TestStdoutCarriesOnlyFrames(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command(binary, "serve", "--db", filepath.Join(home, "b.db"), "--log-level", "debug")
	cmd.Env = baseEnv(home)
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"create_conversation","arguments":{"my_role":"x","partner_role":"frontend"}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"check_messages","arguments":"not an object"}}`,
		`not json at all`,
		`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"create_conversation","arguments":{"my_role":"backend","partner_role":"frontend"}}}`,
	}, "\n") + "\n"
	// Like a real client, keep stdin open until every answer is in.
	stdin, _ := cmd.StdinPipe()
	pipe, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, in)
	ids := map[float64]bool{}
	sc := bufio.NewScanner(pipe)
	sc.Buffer(nil, 1<<20)
	timeout := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer timeout.Stop()
	frame := func(line []byte) {
		var f struct {
			JSONRPC string   `json:"jsonrpc"`
			ID      *float64 `json:"id"`
		}
		if err := json.Unmarshal(line, &f); err != nil || f.JSONRPC != "2.0" {
			t.Fatalf("stdout line is not a JSON-RPC frame: %q", line)
		}
		if f.ID != nil {
			ids[*f.ID] = true
		}
	}
	for len(ids) < 6 && sc.Scan() {
		frame(sc.Bytes())
	}
	stdin.Close()
	for sc.Scan() { // notifications may follow
		frame(sc.Bytes())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, id := range []float64{1, 2, 3, 4, 5, 6} {
		if !ids[id] {
			t.Errorf("no response to request %v", id)
		}
	}
	if !strings.Contains(stderr.String(), "level=INFO") {
		t.Errorf("no log on stderr: %q", stderr.String())
	}
}

// Secrets and tokens never reach the database files in clear, and every
// file is private to its owner.
func TestNoSecretOnDiskAndPrivateFiles(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, "state") // created by the server
	db := filepath.Join(dir, "bridge.db")
	p := launch(t, home, home, nil, db)
	a, b := create(p)
	secrets := []string{"AKIAQYLPMN5HHHFPZAM2", "ghp_Zx8vQ2mN4kL7pR9sT1uW3yA5bC6dE8fG0hJ2"}
	p.ok("send_to_partner", a.args(map[string]any{
		"message":        "aws " + secrets[0] + " and github " + secrets[1],
		"files_involved": []any{"notes/" + secrets[1]},
	}))
	// Refused calls carry secrets too; they must not reach the audit rows.
	p.call("send_to_partner", a.args(map[string]any{"message": secrets[0], "action_type": "x" + secrets[1]}))
	p.call("check_messages", map[string]any{"conversation_id": secrets[0], "session_id": "a", "token": a.token})

	// Read the files while the server runs: WAL and SHM exist now.
	needles := append(secrets, a.token, b.token)
	// Every file the bridge keeps beside the database, the signal files
	// under <db>-notify.d included (created when a process first waits).
	files, _ := filepath.Glob(db + "*")
	if len(files) < 3 {
		t.Fatalf("expected database, WAL, SHM and key files, got %v", files)
	}
	if fi, err := os.Stat(db + "-notify.d"); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("signal directory: %v %v", fi, err)
	}
	signals, _ := filepath.Glob(filepath.Join(db+"-notify.d", "*"))
	files = append(slices.DeleteFunc(files, func(f string) bool { return f == db+"-notify.d" }), signals...)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range needles {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s contains %q in clear", filepath.Base(f), s[:12])
			}
		}
		fi, _ := os.Stat(f)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(f), fi.Mode().Perm())
		}
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("database directory mode %v, want 0700", fi.Mode().Perm())
	}
	for _, s := range needles {
		if strings.Contains(p.stderr.String(), s) {
			t.Errorf("log contains a secret or token")
		}
	}
}

// runCLI runs the binary as a person would.
func runCLI(t *testing.T, home string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = baseEnv(home)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &o, &e, io.NopCloser(strings.NewReader(""))
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}
