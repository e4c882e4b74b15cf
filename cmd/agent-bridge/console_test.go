//go:build linux

package main

// The console in a real browser: the built binary serves it, headless
// Chromium (driven by chromedp over the DevTools protocol) logs in with the
// link it prints and watches what MCP clients do.

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mark3labs/mcp-go/mcp"
)

// chromiumPath finds Debian's chromium. Without it the browser tests skip,
// except under CI=true, where they fail: CI must install it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed, and CI must run the browser tests: apt-get install -y chromium")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser tests")
	return ""
}

// browserContext starts headless Chromium with a profile in a temporary
// directory.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

var loginRe = regexp.MustCompile(`(https?://[^\s/]+)(/login\?secret=[0-9a-f]{64})`)

// startConsole runs `agent-bridge console` on a pseudo-terminal, as a
// person starts it, and returns its base URL and the login path it printed
// there.
func startConsole(t *testing.T, home, db string, args ...string) (base, login string, screen *syncBuffer) {
	t.Helper()
	cmd, master := startOnTerminal(t, home, append([]string{"console", "--db", db}, args...)...)
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		master.Close()
	})
	screen = &syncBuffer{}
	found := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(master)
		for sc.Scan() {
			screen.Write([]byte(sc.Text() + "\n"))
			if m := loginRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m
			}
		}
	}()
	select {
	case m := <-found:
		return m[1], m[2], screen
	case <-time.After(20 * time.Second):
		t.Fatalf("the console printed no login link:\n%s", screen)
	}
	return "", "", nil
}

func TestConsoleNeedsATerminalAndTLSBeyondLoopback(t *testing.T) {
	home := t.TempDir()
	db := filepath.Join(home, "bridge.db")
	p := launch(t, home, home, nil, "--db", db)
	create(p)
	// Through a pipe (as an agent's command runs) there is no link.
	cmd := exec.Command(binary, "console", "--db", db)
	cmd.Env = baseEnv(home)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "only to a terminal") || strings.Contains(string(out), "secret=") {
		t.Fatalf("console without a terminal: %v\n%s", err, out)
	}
	_, errOut, code := runCLI(t, home, "console", "--db", db, "--listen", "0.0.0.0:0")
	if code != 2 || !strings.Contains(errOut, "needs TLS") {
		t.Fatalf("console beyond loopback without TLS: exit %d\n%s", code, errOut)
	}
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 makes a PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// shotDir is where screenshots go: the test's temp dir, or
// $AGENT_BRIDGE_SCREENSHOTS to keep them.
func shotDir(t *testing.T) string {
	if d := os.Getenv("AGENT_BRIDGE_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func TestConsoleInABrowser(t *testing.T) {
	ctx := browserContext(t)
	shots := shotDir(t)
	home, ws := t.TempDir(), t.TempDir()
	db := filepath.Join(home, "bridge.db")
	if err := os.WriteFile(filepath.Join(ws, "plan.md"), []byte("the plan\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"AGENT_BRIDGE_RATE_PER_MINUTE=0", "AGENT_BRIDGE_RATE_PER_HOUR=0", "AGENT_BRIDGE_RATE_PER_DAY=0", "YOLO_MODE=1"}
	p := launch(t, home, ws, env, "--db", db)
	a, b := create(p)
	p.ok("update_my_status", a.args(map[string]any{"status": "working"}))
	p.ok("send_to_partner", a.args(map[string]any{"message": "I am on the parser; the tests are in parser_test.go.", "action_type": "info", "files_involved": []any{"internal/parse/parser.go"}}))
	p.ok("check_messages", b.args(nil))
	p.ok("send_to_partner", b.args(map[string]any{"message": "Which error type should the parser return?", "action_type": "question"}))
	a2, _ := create(p)
	p.ok("update_my_status", a2.args(map[string]any{"status": "blocked"}))

	base, login, stderr := startConsole(t, home, db)

	// Log in with the printed link: the browser ends on a clean URL.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+login), chromedp.WaitVisible(chromedp.CSS(`table.overview`))); err != nil {
		t.Fatalf("log in: %v\n%s", err, stderr)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	overview, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	if loc != base+"/" {
		t.Fatalf("after login the address bar shows %q; want %q", loc, base+"/")
	}
	for _, want := range []string{a.conv, a2.conv, "backend_dev", "frontend_dev", "working", "blocked"} {
		if !strings.Contains(overview, want) {
			t.Errorf("the overview lacks %q", want)
		}
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#livestate.on`))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, shots, "overview")

	// The used link is refused.
	res, err := http.Get(base + login)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("a used login link: %d; want 403", res.StatusCode)
	}

	// A conversation page updates without reload when an MCP client sends.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/c/"+a.conv), chromedp.WaitVisible(chromedp.CSS(`#livestate.on`))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__loaded = true`)); err != nil {
		t.Fatal(err)
	}
	text := "Return *ParseError with the line number " + strconv.FormatInt(time.Now().UnixNano(), 36)
	sent := time.Now()
	p.ok("send_to_partner", a.args(map[string]any{"message": text, "action_type": "proposal"}))
	acked := time.Now()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.Search(`//ol[@class="timeline"]//div[@class="body"][contains(., "`+text+`")]`))); err != nil {
		t.Fatalf("the message never appeared: %v", err)
	}
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#live`), "data-updated"))
	if err != nil {
		t.Fatal(err)
	}
	updated := attr.Value
	same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__loaded === true`))
	if err != nil {
		t.Fatal(err)
	}
	if !same {
		t.Fatal("the page was reloaded; it should update in place")
	}
	ms, _ := strconv.ParseInt(updated, 10, 64)
	lat := time.UnixMilli(ms).Sub(acked)
	t.Logf("message visible in the browser %s after send_to_partner returned (%s after it was called)", lat, time.UnixMilli(ms).Sub(sent))
	if time.UnixMilli(ms).Sub(sent) > time.Second {
		t.Errorf("the message took %s to appear; want under 1s", time.UnixMilli(ms).Sub(sent))
	}
	screenshot(t, ctx, shots, "conversation")

	// The audit trail verifies, and the page says so with the head.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/audit"),
		chromedp.WaitVisible(chromedp.CSS(`table.audit`)),
		chromedp.Click(chromedp.CSS(`#verify`)),
		chromedp.WaitVisible(chromedp.CSS(`#verdict`)),
	); err != nil {
		t.Fatal(err)
	}
	verdict, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#verdict`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(verdict, "Chain intact.") || !regexp.MustCompile(`Head: \d+:[0-9a-f]{64}`).MatchString(verdict) {
		t.Fatalf("verify shows: %s", verdict)
	}
	screenshot(t, ctx, shots, "audit")

	// A request for YOLO mode appears in the consent queue live; the person
	// types the phrase and the code the page shows, and the command runs.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/consent"), chromedp.WaitVisible(chromedp.CSS(`#livestate.on`))); err != nil {
		t.Fatal(err)
	}
	pending := make(chan *mcp.CallToolResult, 1)
	go func() {
		res, err := p.call("enable_yolo_mode", a.args(map[string]any{"mode": "safe", "workspace": ws, "wait_seconds": 60}))
		if err != nil {
			t.Error(err)
		}
		pending <- res
	}()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`article.request`))); err != nil {
		t.Fatal(err)
	}
	phrase, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`article.request .phrase`)))
	if err != nil {
		t.Fatal(err)
	}
	code, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`article.request .code`)))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, shots, "consent")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`article.request input[name="phrase"]`), phrase),
		chromedp.SendKeys(chromedp.CSS(`article.request input[name="code"]`), code),
		chromedp.Click(chromedp.CSS(`article.request button[value="approve"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash.ok`)),
	); err != nil {
		t.Fatal(err)
	}
	res2 := <-pending
	if res2 == nil || res2.IsError {
		t.Fatalf("enable after approval in the console: %v", res2)
	}
	var got struct {
		State         string `json:"state"`
		ApprovalToken string `json:"approval_token"`
	}
	raw, _ := json.Marshal(res2.StructuredContent)
	json.Unmarshal(raw, &got)
	if got.State != "approved" || got.ApprovalToken == "" || strings.Contains(string(raw), code) {
		t.Fatalf("enable after approval: %s", raw)
	}
	ran := p.ok("execute_command", a.args(map[string]any{"command": "cat plan.md", "approval_token": got.ApprovalToken}))
	if !strings.Contains(ran["output"].(string), "the plan") {
		t.Fatalf("execute_command: %v", ran)
	}

	// The operator posts a notice; the agent reads it as a bridge notice.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/c/"+b.conv),
		chromedp.SendKeys(chromedp.CSS(`#notice-text`), "Please wrap up and commit by noon."),
		chromedp.SetValue(chromedp.CSS(`select[name="to"]`), "b"),
		chromedp.Click(chromedp.CSS(`form.notice button`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash.ok`)),
	); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, shots, "notice")
	inbox := p.ok("check_messages", b.args(nil))["messages"].([]any)
	last := inbox[len(inbox)-1].(map[string]any)
	if last["from"] != "bridge" || !strings.Contains(last["message"].(string), "Please wrap up") || !strings.Contains(last["message"].(string), "operator") {
		t.Fatalf("b's last message: %v", last)
	}

	// Metrics are served and parse as the Prometheus text format.
	mres, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(mres.Body)
	mres.Body.Close()
	if mres.StatusCode != 200 || !strings.Contains(string(body), "agent_bridge_messages_stored_total 1") {
		t.Fatalf("console /metrics: %d\n%s", mres.StatusCode, body)
	}

	// Nothing secret reached the console's log.
	for _, secret := range []string{a.token, b.token, text, got.ApprovalToken, code} {
		if strings.Contains(stderr.String(), secret) {
			t.Fatalf("the console's stderr carries a secret or message text: %q", secret)
		}
	}
}
