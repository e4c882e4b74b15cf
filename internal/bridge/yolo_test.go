package bridge_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/token"
	"github.com/agent-bridge/agent-bridge/internal/yolo"
)

// yoloRig is a service with YOLO mode on over a database file, a
// conversation, and a workspace holding one file.
type yoloRig struct {
	svc     *bridge.Service
	dbPath  string
	key     token.Key
	now     *time.Time
	a, b    bridge.Caller
	ws      string
	enabled bool
	hide    []string
}

func newYoloRig(t *testing.T, enabled bool) *yoloRig {
	t.Helper()
	r := &yoloRig{dbPath: filepath.Join(t.TempDir(), "b.db"), enabled: enabled}
	r.key[0] = 9
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	r.now = &now
	r.ws = t.TempDir()
	if err := os.WriteFile(filepath.Join(r.ws, "notes.txt"), []byte("hello from the workspace\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.svc = r.open(t)
	c, err := r.svc.CreateConversation(context.Background(), "backend", "frontend")
	if err != nil {
		t.Fatal(err)
	}
	r.a = bridge.Caller{ConversationID: c.Conversation.ID, Session: "a", Token: c.TokenA}
	r.b = bridge.Caller{ConversationID: c.Conversation.ID, Session: "b", Token: c.TokenB}
	return r
}

// open returns another service over the same database and key: another
// agent-bridge process.
func (r *yoloRig) open(t *testing.T) *bridge.Service {
	t.Helper()
	db, err := sqlite.Open(context.Background(), r.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := bridge.DefaultConfig()
	cfg.SessionLimits, cfg.CreateLimits = nil, nil
	cfg.Now = func() time.Time { return *r.now }
	cfg.Yolo.Enabled = r.enabled
	cfg.Yolo.Workspace = r.ws
	cfg.Yolo.Hide = r.hide
	return bridge.NewService(db, r.key, nil, cfg, nil)
}

// enable asks for mode and approves it from the terminal side; it returns
// the approval token.
func (r *yoloRig) enable(t *testing.T, mode string) (string, bridge.Approval) {
	t.Helper()
	return r.enableWith(t, bridge.EnableInput{Mode: mode})
}

// enableWith is enable with every setting of the request.
func (r *yoloRig) enableWith(t *testing.T, in bridge.EnableInput) (string, bridge.Approval) {
	t.Helper()
	ctx := context.Background()
	res, err := r.svc.EnableYolo(ctx, r.a, in)
	if err != nil {
		t.Fatal(err)
	}
	if st := res.Approval.StateAt(*r.now); st != bridge.ApprovalPending || res.Token != "" {
		t.Fatalf("before consent: state %s, token %q", st, res.Token)
	}
	if _, err := r.svc.Decide(ctx, res.Approval.ID, true, "terminal user test", ""); err != nil {
		t.Fatal(err)
	}
	res, err = r.svc.EnableYolo(ctx, r.a, bridge.EnableInput{RequestID: res.Approval.ID})
	if err != nil || res.Token == "" {
		t.Fatalf("after consent: token %q, err %v", res.Token, err)
	}
	return res.Token, res.Approval
}

// runApproved runs a yolo-mode command: asks, approves it from the
// terminal side, and runs it. tok is passed on the first call when set.
func (r *yoloRig) runApproved(t *testing.T, cmd, tok string) bridge.ExecResult {
	t.Helper()
	ctx := context.Background()
	out, err := r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: cmd, ApprovalToken: tok})
	if err != nil || out.Ran {
		t.Fatalf("before approval: %+v %v", out, err)
	}
	if _, err := r.svc.Decide(ctx, out.Approval.ID, true, "terminal user test", ""); err != nil {
		t.Fatal(err)
	}
	if out, err = r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: cmd, RequestID: out.Approval.ID}); err != nil {
		t.Fatal(err)
	}
	return out
}

func wantKind(t *testing.T, err error, kind bridge.ErrorKind, text string) {
	t.Helper()
	if bridge.KindOf(err) != kind || !strings.Contains(bridge.MessageOf(err), text) {
		t.Fatalf("got %v (%s), want %s containing %q", err, bridge.KindOf(err), kind, text)
	}
}

func TestYoloGateRefusesWithoutEnvironment(t *testing.T) {
	r := newYoloRig(t, false)
	ctx := context.Background()
	_, err := r.svc.EnableYolo(ctx, r.a, bridge.EnableInput{Mode: "safe"})
	wantKind(t, err, bridge.EForbidden, "YOLO_MODE=1")
	_, err = r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "ls"})
	wantKind(t, err, bridge.EForbidden, "YOLO_MODE=1")
	if v, err := r.svc.Approvals(ctx); err != nil || len(v) != 0 {
		t.Fatalf("refused calls stored approvals: %v %v", v, err)
	}
	rows, err := r.svc.Audit(ctx, bridge.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var refused int
	for _, e := range rows {
		if (e.Tool == "enable_yolo_mode" || e.Tool == "execute_command") && e.Outcome == bridge.OutcomeRefused && e.ErrorKind == bridge.EForbidden {
			refused++
		}
	}
	if refused != 2 {
		t.Fatalf("%d refused YOLO rows audited, want 2", refused)
	}
	// An enablement already in the database does not open the gate.
	on := newYoloRig(t, true)
	tok, _ := on.enable(t, "safe")
	on.enabled = false
	_, err = on.open(t).ExecuteCommand(ctx, on.a, bridge.ExecInput{Command: "ls", ApprovalToken: tok})
	wantKind(t, err, bridge.EForbidden, "YOLO_MODE=1")
}

func TestYoloNeedsConsentAndAToken(t *testing.T) {
	r := newYoloRig(t, true)
	ctx := context.Background()
	// No enablement at all.
	_, err := r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "ls"})
	wantKind(t, err, bridge.EForbidden, "call enable_yolo_mode")

	// Asked, not yet decided: the wait ends with the request pending and
	// nothing usable.
	res, err := r.svc.EnableYolo(ctx, r.a, bridge.EnableInput{Mode: "safe", Wait: 50 * time.Millisecond})
	if err != nil || res.Token != "" || res.Approval.StateAt(*r.now) != bridge.ApprovalPending {
		t.Fatalf("undecided: %+v %v", res, err)
	}
	_, err = r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "ls"})
	wantKind(t, err, bridge.EForbidden, "not enabled")

	// A person denies it.
	if _, err := r.svc.Decide(ctx, res.Approval.ID, false, "terminal user test", "not today"); err != nil {
		t.Fatal(err)
	}
	_, err = r.svc.EnableYolo(ctx, r.a, bridge.EnableInput{RequestID: res.Approval.ID})
	wantKind(t, err, bridge.EForbidden, "not today")
	if _, err := r.svc.Decide(ctx, res.Approval.ID, true, "x", ""); bridge.KindOf(err) != bridge.EInvalid {
		t.Fatalf("a decided request was decided again: %v", err)
	}

	// Approved: the token is required once, then the enablement holds.
	tok, ap := r.enable(t, "safe")
	_, err = r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "ls"})
	wantKind(t, err, bridge.EForbidden, "approval_token")
	forged := ap.ID + "." + strings.Repeat("0", 64)
	_, err = r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "ls", ApprovalToken: forged})
	wantKind(t, err, bridge.EUnauthorized, "not valid")
	_, err = r.svc.ExecuteCommand(ctx, r.b, bridge.ExecInput{Command: "ls", ApprovalToken: tok})
	wantKind(t, err, bridge.EUnauthorized, "another session")

	out, err := r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "ls", ApprovalToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Ran || out.Run.ExitCode != 0 || !strings.Contains(out.Output, "notes.txt") {
		t.Fatalf("ls in the workspace: %+v", out)
	}
	_, err = r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "ls", ApprovalToken: tok})
	wantKind(t, err, bridge.EForbidden, "already used")
	if out, err := r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "cat notes.txt"}); err != nil || !strings.Contains(out.Output, "hello from the workspace") {
		t.Fatalf("second command without the token: %+v %v", out, err)
	}

	// The partner receives each run, quoted like any message.
	in, err := r.svc.CheckMessages(ctx, r.b, bridge.CheckInput{})
	if err != nil || len(in.Messages) != 2 || in.Messages[0].System || !strings.Contains(in.Messages[1].Body, "hello from the workspace") {
		t.Fatalf("partner's copies: %+v %v", in.Messages, err)
	}
}

func TestYoloApprovalTokenExpires(t *testing.T) {
	r := newYoloRig(t, true)
	tok, _ := r.enable(t, "safe")
	*r.now = r.now.Add(5*time.Minute + time.Second)
	_, err := r.svc.ExecuteCommand(context.Background(), r.a, bridge.ExecInput{Command: "ls", ApprovalToken: tok})
	wantKind(t, err, bridge.EExpired, "expired")
}

func TestYoloRequestExpiresUndecided(t *testing.T) {
	r := newYoloRig(t, true)
	ctx := context.Background()
	res, err := r.svc.EnableYolo(ctx, r.a, bridge.EnableInput{Mode: "safe"})
	if err != nil {
		t.Fatal(err)
	}
	*r.now = r.now.Add(11 * time.Minute)
	if _, err := r.svc.Decide(ctx, res.Approval.ID, true, "late", ""); bridge.KindOf(err) != bridge.EInvalid {
		t.Fatalf("approving an expired request: %v", err)
	}
	_, err = r.svc.EnableYolo(ctx, r.a, bridge.EnableInput{RequestID: res.Approval.ID})
	wantKind(t, err, bridge.EExpired, "no person decided in time")
}

// Consent has one channel, the terminal: the service offers no form to
// the requesting client and answers nothing but "pending" until a person
// decides there, and the audit row of the decision names the channel.
func TestYoloConsentOnlyThroughTheTerminal(t *testing.T) {
	r := newYoloRig(t, true)
	ctx := context.Background()
	res, err := r.svc.EnableYolo(ctx, r.a, bridge.EnableInput{Mode: "restricted"})
	if err != nil || res.Approval.StateAt(*r.now) != bridge.ApprovalPending || res.Token != "" {
		t.Fatalf("a request without a person's decision: %+v %v", res, err)
	}
	if _, err := r.svc.Decide(ctx, res.Approval.ID, true, "terminal user test", ""); err != nil {
		t.Fatal(err)
	}
	rows, err := r.svc.Audit(ctx, bridge.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, row := range rows {
		if row.Tool == "cli:approve" {
			found = true
			if !strings.Contains(row.Detail, bridge.ConsentChannel) || !strings.Contains(row.Detail, "terminal user test") {
				t.Errorf("the approval's audit row does not say which channel consented: %q", row.Detail)
			}
		}
		if row.Tool == "yolo:consent" {
			t.Errorf("consent recorded through another channel: %q", row.Detail)
		}
	}
	if !found {
		t.Fatal("no cli:approve audit row")
	}
}

func TestYoloRefusesCommandsOutsideTheMode(t *testing.T) {
	r := newYoloRig(t, true)
	ctx := context.Background()
	tok, _ := r.enable(t, "safe")
	if _, err := r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "ls", ApprovalToken: tok}); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"rm -rf notes.txt", "cat /etc/passwd", "cat ../x", "ls | sh", "sh -c 'rm -rf /'", "curl http://127.0.0.1/x"} {
		_, err := r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: cmd})
		wantKind(t, err, bridge.EForbidden, "safe mode refuses")
	}
	if _, err := os.Stat(filepath.Join(r.ws, "notes.txt")); err != nil {
		t.Fatalf("a refused command changed the workspace: %v", err)
	}
	in, err := r.svc.CheckMessages(ctx, r.b, bridge.CheckInput{})
	if err != nil || len(in.Messages) != 1 {
		t.Fatalf("refused commands reached the partner: %d messages, %v", len(in.Messages), err)
	}
}

func TestYoloModeApprovesEachCommand(t *testing.T) {
	r := newYoloRig(t, true)
	ctx := context.Background()
	tok, _ := r.enable(t, "yolo")
	out, err := r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "echo one > made.txt", ApprovalToken: tok})
	if err != nil || out.Ran || out.Approval.Kind != bridge.KindCommand || out.Approval.Command != "echo one > made.txt" {
		t.Fatalf("yolo command before its approval: %+v %v", out, err)
	}
	id := out.Approval.ID
	if _, err := os.Stat(filepath.Join(r.ws, "made.txt")); err == nil {
		t.Fatal("the command ran before anyone approved it")
	}
	// Another session cannot spend it; a different command cannot use it.
	_, err = r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "echo two > made.txt", RequestID: id})
	wantKind(t, err, bridge.EForbidden, "different command")
	if _, err := r.svc.Decide(ctx, id, true, "terminal user test", ""); err != nil {
		t.Fatal(err)
	}
	out, err = r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "echo one > made.txt", RequestID: id})
	if err != nil || !out.Ran {
		t.Fatalf("approved command: %+v %v", out, err)
	}
	if b, err := os.ReadFile(filepath.Join(r.ws, "made.txt")); err != nil || string(b) != "one\n" {
		t.Fatalf("made.txt = %q, %v", b, err)
	}
	_, err = r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "echo one > made.txt", RequestID: id})
	wantKind(t, err, bridge.EForbidden, "already used")
	// The hard deny list holds even in yolo mode, before anyone is asked.
	_, err = r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "rm -rf /"})
	wantKind(t, err, bridge.EForbidden, "yolo mode refuses")
}

func TestYoloEnablementIsSharedAcrossProcesses(t *testing.T) {
	r := newYoloRig(t, true)
	ctx := context.Background()
	res, err := r.svc.EnableYolo(ctx, r.a, bridge.EnableInput{Mode: "safe"})
	if err != nil {
		t.Fatal(err)
	}
	// The agent waits in one process; the person decides through another.
	done := make(chan bridge.YoloResult, 1)
	go func() {
		w, err := r.svc.EnableYolo(ctx, r.a, bridge.EnableInput{RequestID: res.Approval.ID, Wait: time.Minute})
		if err != nil {
			t.Error(err)
		}
		done <- w
	}()
	other := r.open(t)
	if _, err := other.Decide(ctx, res.Approval.ID, true, "terminal user test", ""); err != nil {
		t.Fatal(err)
	}
	var w bridge.YoloResult
	select {
	case w = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting call did not hear the decision made by another process")
	}
	if w.Token == "" {
		t.Fatalf("no token after approval: %+v", w)
	}
	// The token is spent through a third process, and the enablement holds
	// in every process.
	if _, err := r.open(t).ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "ls", ApprovalToken: w.Token}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "ls"}); err != nil {
		t.Fatal(err)
	}
	// Revoking ends it everywhere.
	if _, err := other.Revoke(ctx, res.Approval.ID, "terminal user test"); err != nil {
		t.Fatal(err)
	}
	_, err = r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "ls"})
	wantKind(t, err, bridge.EForbidden, "not enabled")
}

func TestYoloOutputSecretsNeverStored(t *testing.T) {
	r := newYoloRig(t, true)
	ctx := context.Background()
	const secret = "ghp_Zx9Kq2Lm4Np6Rs8Tv0Wy1Ab3Cd5Ef7Gh9Ij1"
	if err := os.WriteFile(filepath.Join(r.ws, "creds.txt"), []byte("GITHUB_TOKEN="+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tok, _ := r.enable(t, "safe")
	out, err := r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "cat creds.txt", ApprovalToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.Output, secret) || !strings.Contains(out.Output, "[REDACTED:") || len(out.Redacted) == 0 {
		t.Fatalf("output not redacted: %q %v", out.Output, out.Redacted)
	}
	in, err := r.svc.CheckMessages(ctx, r.b, bridge.CheckInput{})
	if err != nil || len(in.Messages) != 1 || strings.Contains(in.Messages[0].Body, secret) {
		t.Fatalf("partner's copy: %+v %v", in.Messages, err)
	}
	// A secret typed into the command itself is not stored either.
	if _, err := r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "grep " + secret + " creds.txt"}); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(r.dbPath + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("the secret printed by a command is in %s", filepath.Base(r.dbPath+suffix))
		}
	}
}

// The enablement's timeout reaches the command: it and everything it
// started, even a grandchild that left its session, are gone when the call
// returns, and the partner is told it was killed.
func TestYoloTimeoutLeavesNoProcess(t *testing.T) {
	r := newYoloRig(t, true)
	ctx := context.Background()
	tok, _ := r.enableWith(t, bridge.EnableInput{Mode: "yolo", Timeout: time.Second})
	start := time.Now()
	out := r.runApproved(t, "setsid sleep 293 & sleep 294", tok)
	if !out.Run.TimedOut || time.Since(start) > 20*time.Second {
		t.Fatalf("timed out %v after %s", out.Run.TimedOut, time.Since(start))
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if s := string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})); strings.HasPrefix(s, "sleep 293") || strings.HasPrefix(s, "sleep 294") {
			t.Errorf("left behind: %s (%s)", s, p)
		}
	}
	in, err := r.svc.CheckMessages(ctx, r.b, bridge.CheckInput{})
	if err != nil || len(in.Messages) != 1 || !strings.Contains(in.Messages[0].Body, "killed at its timeout") {
		t.Fatalf("partner's copy: %+v %v", in.Messages, err)
	}
}

func TestYoloSandboxRefusedWhenUnavailable(t *testing.T) {
	r := newYoloRig(t, true)
	t.Setenv("PATH", t.TempDir()) // no bwrap
	_, err := r.svc.EnableYolo(context.Background(), r.a, bridge.EnableInput{Mode: "safe", Sandbox: true})
	wantKind(t, err, bridge.EInvalid, "apt-get install bubblewrap")
	if v, _ := r.svc.Approvals(context.Background()); len(v) != 0 {
		t.Fatalf("a person was asked to approve a sandbox that cannot run: %v", v)
	}
}

// In a sandboxed enablement, even a yolo command cannot read the bridge's
// database or key file (the key signs every token).
func TestYoloSandboxHidesTheBridgesFiles(t *testing.T) {
	r := newYoloRig(t, true)
	if err := yolo.SandboxAvailable(r.ws); err != nil {
		t.Skipf("sandbox not tested: %v", err)
	}
	keyFile := r.dbPath + ".key"
	if err := os.WriteFile(keyFile, []byte("KEYMATERIAL-0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.hide = []string{r.dbPath, keyFile}
	r.svc = r.open(t)
	tok, _ := r.enableWith(t, bridge.EnableInput{Mode: "yolo", Sandbox: true})
	out := r.runApproved(t, "cat "+keyFile+"; wc -c "+r.dbPath+"; cat notes.txt", tok)
	// Hidden files read as nothing or not at all; either way no byte of them.
	dbSize := regexp.MustCompile(`(?m)^[1-9][0-9]* ` + regexp.QuoteMeta(r.dbPath) + `$`)
	if strings.Contains(out.Output, "KEYMATERIAL") || dbSize.MatchString(out.Output) || !strings.Contains(out.Output, "hello from the workspace") {
		t.Fatalf("sandboxed output: %q", out.Output)
	}
}

// A caller that gives up waiting for a person leaves the request pending,
// and its call ends as a wait that ran out, not as a failure.
func TestYoloCancelledWaitLeavesRequestPending(t *testing.T) {
	r := newYoloRig(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, err := r.svc.EnableYolo(ctx, r.a, bridge.EnableInput{Mode: "safe", Wait: time.Minute})
	if err != nil || res.Approval.StateAt(*r.now) != bridge.ApprovalPending || res.Token != "" {
		t.Fatalf("cancelled wait: %+v, %v", res, err)
	}
	if v, _ := r.svc.Approvals(context.Background(), bridge.ApprovalPending); len(v) != 1 {
		t.Fatalf("pending requests after the cancelled wait: %d, want 1", len(v))
	}
}

// Approvals selects by the state at the time of reading: a pending request
// past its time is listed as expired, not pending.
func TestApprovalsByStateNow(t *testing.T) {
	r := newYoloRig(t, true)
	ctx := context.Background()
	old, err := r.svc.EnableYolo(ctx, r.a, bridge.EnableInput{Mode: "safe"})
	if err != nil {
		t.Fatal(err)
	}
	*r.now = r.now.Add(11 * time.Minute)
	fresh, err := r.svc.EnableYolo(ctx, r.a, bridge.EnableInput{Mode: "safe"})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(states ...string) string {
		v, err := r.svc.Approvals(ctx, states...)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range v {
			out = append(out, a.ID+"="+a.StateNow)
		}
		return strings.Join(out, ",")
	}
	o, f := old.Approval.ID, fresh.Approval.ID
	for _, c := range []struct {
		states []string
		want   string
	}{
		{[]string{bridge.ApprovalPending}, f + "=pending"},
		{[]string{bridge.ApprovalExpired}, o + "=expired"},
		{nil, o + "=expired," + f + "=pending"},
		{[]string{bridge.ApprovalActive}, ""},
	} {
		if got := ids(c.states...); got != c.want {
			t.Errorf("Approvals(%v) = %s, want %s", c.states, got, c.want)
		}
	}
}

// Issue 13, finding 2: the person was shown the redacted command, and
// redaction swallowed shell syntax (--password=X;id>F showed as one
// redacted word while bash also ran ;id>F). Now a yolo-mode command with
// a secret in it is refused before anyone is asked, and any other is
// stored and shown exactly as it runs.
func TestYoloPersonApprovesTheExactText(t *testing.T) {
	r := newYoloRig(t, true)
	ctx := context.Background()
	// A refused call changes nothing, so the token stays unspent.
	tok, _ := r.enable(t, "yolo")
	for _, cmd := range []string{
		"mysql --password=Zq8vLw2mXr5tKp9s;id>F",
		"curl -s https://deploy:Zq8vLw2mXr5tKp9s@example.com/x;id>F",
		"echo ghp_Zx9Kq2Lm4Np6Rs8Tv0Wy1Ab3Cd5Ef7Gh9Ij1;id>F",
	} {
		out, err := r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: cmd, ApprovalToken: tok})
		wantKind(t, err, bridge.EForbidden, "looks like a secret")
		if out.Approval.ID != "" {
			t.Fatalf("%q: a person was asked to approve it: %+v", cmd, out.Approval)
		}
	}
	if _, err := os.Stat(filepath.Join(r.ws, "F")); err == nil {
		t.Fatal("the hidden part ran")
	}
	pending, err := r.svc.Approvals(ctx, bridge.ApprovalPending)
	if err != nil || len(pending) != 0 {
		t.Fatalf("requests stored for commands with secrets: %+v %v", pending, err)
	}

	cmd := "printf 'a\\tb\\n' >out.txt;\tcat out.txt\nls -l"
	out, err := r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: cmd, ApprovalToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.svc.Approval(ctx, out.Approval.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Command != cmd || v.CommandHash != bridge.CommandHash(cmd) {
		t.Fatalf("stored %q (hash %s), want the exact text %q", v.Command, v.CommandHash, cmd)
	}
	want := "    printf 'a\\tb\\n' >out.txt;\\tcat out.txt\n    ls -l\n"
	if p := v.Prompt(); !strings.Contains(p, want) {
		t.Fatalf("the prompt does not show the command as it runs:\n%s\nwant it to contain:\n%s", p, want)
	}
}

// Escape sequences and invisible characters in what an agent chose
// (its role, its workspace's name) or what a server reports (origin)
// reach the person's terminal only as visible escapes: no fake
// "sandbox: on" line can be drawn over the real one.
func TestConsentPromptShowsEscapesVisibly(t *testing.T) {
	a := bridge.Approval{
		ID: "appr_0123456789abcdef", Kind: bridge.KindCommand, ConversationID: "conv_x", Session: bridge.SessionA,
		Workspace: "/tmp/ws\x1b[1A\r  sandbox:   on (bubblewrap)", Origin: "host\x1b]0;pwned\x07",
		Command: "ls \u202egnp.exe\u202c\x1b[2K", CommandHash: bridge.CommandHash("ls"), Timeout: time.Second,
	}
	p := bridge.ConsentPrompt(a, bridge.Conversation{RoleA: "backend\x1b[31m\u200b"})
	for _, r := range p {
		if r == '\x1b' || r == '\r' || r == '\a' || r == '\u202e' || r == '\u200b' {
			t.Fatalf("prompt carries %U:\n%q", r, p)
		}
	}
	for _, want := range []string{`ws\x1b[1A\r  sandbox:`, `\u202egnp.exe\u202c\x1b[2K`, `host\x1b]0;pwned\x07`, `backend\x1b[31m\u200b`} {
		if !strings.Contains(p, want) {
			t.Errorf("prompt does not show %s:\n%s", want, p)
		}
	}
}

// The command tools, like every other tool, let the token say who calls:
// session_id may be left out, and the approval, the enablement, the audit
// row and the partner's copy all name the member the token belongs to.
func TestYoloWithoutSessionID(t *testing.T) {
	r := newYoloRig(t, true)
	ctx := context.Background()
	anon := r.a
	anon.Session = ""
	res, err := r.svc.EnableYolo(ctx, anon, bridge.EnableInput{Mode: "safe"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Approval.Session != "a" {
		t.Fatalf("request made for %q, want a", res.Approval.Session)
	}
	if _, err := r.svc.Decide(ctx, res.Approval.ID, true, "terminal user test", ""); err != nil {
		t.Fatal(err)
	}
	res, err = r.svc.EnableYolo(ctx, anon, bridge.EnableInput{RequestID: res.Approval.ID})
	if err != nil || res.Token == "" {
		t.Fatalf("after consent without session_id: %+v %v", res, err)
	}
	out, err := r.svc.ExecuteCommand(ctx, anon, bridge.ExecInput{Command: "ls", ApprovalToken: res.Token})
	if err != nil || !out.Ran || out.Enablement.Session != "a" {
		t.Fatalf("execute without session_id: %+v %v", out, err)
	}
	// The enablement is a's: a named caller uses it too.
	if out, err := r.svc.ExecuteCommand(ctx, r.a, bridge.ExecInput{Command: "cat notes.txt"}); err != nil || !out.Ran {
		t.Fatalf("a after an anonymous start: %+v %v", out, err)
	}
	in, err := r.svc.CheckMessages(ctx, r.b, bridge.CheckInput{})
	if err != nil || len(in.Messages) != 2 || in.Messages[0].From != "a" {
		t.Fatalf("partner's copies: %+v %v", in.Messages, err)
	}
	// A wrong token without session_id is refused like any other call.
	bad := anon
	bad.Token = r.b.Token[:63] + "0"
	if bad.Token == r.b.Token {
		bad.Token = r.b.Token[:63] + "1"
	}
	_, err = r.svc.ExecuteCommand(ctx, bad, bridge.ExecInput{Command: "ls"})
	wantKind(t, err, bridge.EUnauthorized, "Invalid session token")
}
