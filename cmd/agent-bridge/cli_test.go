package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

func TestManagementCommands(t *testing.T) {
	home := t.TempDir()
	db := filepath.Join(home, "b.db")

	if _, stderr, code := runCLI(t, home, "list", "--db", db); code != 1 || !strings.Contains(stderr, "no database at") {
		t.Fatalf("list without a database: code %d, %q", code, stderr)
	}

	p := launch(t, home, home, nil, db)
	a, b := create(p)
	p.ok("send_to_partner", a.args(map[string]any{"message": "see handler", "files_involved": []any{"api/h.go"}}))
	p.ok("update_my_status", b.args(map[string]any{"status": "waiting"}))
	p.call("check_messages", b.args(map[string]any{"token": a.token})) // refused
	p.close()

	out, _, code := runCLI(t, home, "list", "--db", db)
	if code != 0 || !strings.Contains(out, a.conv) || !strings.Contains(out, "waiting") {
		t.Fatalf("list: %d %q", code, out)
	}
	out, _, _ = runCLI(t, home, "list", "--json", "--db", db)
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0]["messages"] != 1.0 {
		t.Fatalf("list --json: %v %q", err, out)
	}

	// Flags after the positional argument work too.
	out, _, code = runCLI(t, home, "show", a.conv, "--db", db)
	if code != 0 || !strings.Contains(out, "see handler") || !strings.Contains(out, "unread") || !strings.Contains(out, "api/h.go") {
		t.Fatalf("show: %d %q", code, out)
	}
	// A missing conversation is said to a person: which database, where to look.
	if _, stderr, code := runCLI(t, home, "show", "conv_0000000000000000", "--db", db); code != 1 ||
		!strings.Contains(stderr, "no conversation conv_0000000000000000 in "+db) || !strings.Contains(stderr, "agent-bridge list") {
		t.Fatalf("show unknown: %d %q", code, stderr)
	}
	if _, stderr, code := runCLI(t, home, "show", "nope", "--db", db); code != 2 || !strings.Contains(stderr, `"nope" is not a conversation id`) {
		t.Fatalf("show malformed: %d %q", code, stderr)
	}

	out, stderr, code := runCLI(t, home, "tokens", a.conv, "--db", db)
	if code != 0 || !strings.Contains(out, a.token) || !strings.Contains(out, b.token) || !strings.Contains(stderr, "warning") {
		t.Fatalf("tokens: %d %q %q", code, out, stderr)
	}

	out, _, code = runCLI(t, home, "audit", a.conv, "--db", db, "-n", "10")
	for _, want := range []string{"send_to_partner", "update_my_status", "refused (unauthorized)", "cli:tokens"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("audit lacks %q: %q", want, out)
		}
	}
	if strings.Contains(out, "see handler") {
		t.Fatal("audit shows a message body")
	}
	out, _, code = runCLI(t, home, "audit", "--verify", "--db", db)
	if code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("verify: %d %q", code, out)
	}

	// Edit one row and delete another: verify names both and fails.
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := raw.ExecContext(ctx, `UPDATE audit SET outcome = 'ok', error_kind = '' WHERE outcome = 'refused'`); err != nil {
		t.Fatal(err)
	}
	var refusedSeq int64
	raw.QueryRowContext(ctx, `SELECT min(seq) FROM audit WHERE tool = 'check_messages'`).Scan(&refusedSeq)
	if _, err := raw.ExecContext(ctx, `DELETE FROM audit WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	out, _, code = runCLI(t, home, "audit", "--verify", "--json", "--db", db)
	var rep struct {
		OK       bool `json:"ok"`
		Problems []struct {
			Seq int64 `json:"seq"`
		} `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.OK {
		t.Fatalf("tampered chain verified: code %d, %q", code, out)
	}
	var named []int64
	for _, p := range rep.Problems {
		named = append(named, p.Seq)
	}
	if !containsSeq(named, 3) || !containsSeq(named, refusedSeq) {
		t.Fatalf("problems %v should name the row after the deleted one (3) and the edited row (%d)", named, refusedSeq)
	}

	out, _, code = runCLI(t, home, "cleanup", "--db", db)
	if code != 0 || !strings.Contains(out, "removed 0 expired conversations") {
		t.Fatalf("cleanup: %d %q", code, out)
	}
}

func containsSeq(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestCleanupRemovesExpired(t *testing.T) {
	home := t.TempDir()
	db := filepath.Join(home, "b.db")
	p := launch(t, home, home, []string{"AGENT_BRIDGE_TTL=1ms"}, db)
	a, _ := create(p)
	res, err := p.call("send_to_partner", a.args(map[string]any{"message": "too late"}))
	if err != nil || !res.IsError {
		t.Fatalf("send to an expired conversation: %v %v", res, err)
	}
	p.close()
	out, _, code := runCLI(t, home, "cleanup", "--json", "--db", db)
	var c map[string]int
	if err := json.Unmarshal([]byte(out), &c); err != nil || code != 0 || c["conversations"] != 1 {
		t.Fatalf("cleanup: %d %q", code, out)
	}
	out, _, _ = runCLI(t, home, "audit", "--db", db, "-n", "0")
	if !strings.Contains(out, "cli:cleanup") || !strings.Contains(out, "create_conversation") {
		t.Fatalf("audit rows lost by cleanup: %q", out)
	}
}

func TestRunUsage(t *testing.T) {
	home := t.TempDir()
	getenv := func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	cases := []struct {
		args []string
		code string // substring of the error, "" for success
		out  string // substring of stdout
		not  string // not in stdout, when set
	}{
		{[]string{"help"}, "", "agent-bridge help COMMAND", ""},
		{[]string{"--help"}, "", "tokens", ""},
		{[]string{"help", "serve"}, "", "AGENT_BRIDGE_RATE_PER_MINUTE", ""},
		{[]string{"help", "audit"}, "", "--verify", ""},
		{[]string{"serve", "--help"}, "", "--ttl", ""},
		{[]string{"version"}, "", "database schema: SQLite ", ""},
		// Each command lists, and accepts, its own flags only.
		{[]string{"help", "version"}, "", "It takes no flags.", "--db"},
		{[]string{"version", "--db", "x.db"}, "flag provided but not defined: -db", "", ""},
		{[]string{"help", "redact"}, "", "--redact-rules", "--db"},
		{[]string{"help", "list"}, "", "--db", "--ttl"},
		{[]string{"help", "help"}, "", "usage: agent-bridge help [COMMAND]", ""},
		{[]string{"help", "list", "show"}, "at most one command", "", ""},
		// One-letter flags are shown as the usage line writes them.
		{[]string{"help", "audit"}, "", "\n  -n N\n", "--n"},
		{[]string{"frobnicate"}, "unknown command \"frobnicate\"", "", ""},
		{[]string{"help", "frobnicate"}, "unknown command", "", ""},
		{[]string{"serve", "--rate-per-minute", "-1"}, "--rate-per-minute must be 0 (no limit) or more", "", ""},
		{[]string{"serve", "--ttl", "0s"}, "--ttl must be positive", "", ""},
		{[]string{"serve", "--bogus"}, "flag provided but not defined: -bogus", "", ""},
		{[]string{"serve", "a.db", "b.db"}, "at most one database path", "", ""},
		{[]string{"audit", "not-an-id", "--db", filepath.Join(home, "x.db")}, "no database at", "", ""},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tc.args, getenv, strings.NewReader(""), &stdout, &stderr)
		if tc.code == "" && err != nil && err != errHelpShown {
			t.Errorf("%v: %v", tc.args, err)
		}
		if tc.code != "" && (err == nil || !strings.Contains(err.Error(), tc.code)) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.code)
		}
		if !strings.Contains(stdout.String(), tc.out) {
			t.Errorf("%v: stdout %q lacks %q", tc.args, stdout.String(), tc.out)
		}
		if tc.not != "" && strings.Contains(stdout.String(), tc.not) {
			t.Errorf("%v: stdout %q has %q", tc.args, stdout.String(), tc.not)
		}
	}
}

func TestRedactCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	in := strings.NewReader("db: postgres://app:S3cr3t-pa55@db/app and AKIAQYLPMN5HHHFPZAM2\n")
	if err := run(context.Background(), []string{"redact"}, func(string) string { return "" }, in, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != "db: postgres://app:[REDACTED:url-password]@db/app and [REDACTED:aws-access-key-id]\n" {
		t.Fatalf("stdout %q", got)
	}
	if !strings.Contains(stderr.String(), "redacted 1 aws-access-key-id") {
		t.Fatalf("stderr %q", stderr.String())
	}
}

func TestEnvironmentSetsFlagsButFlagsWin(t *testing.T) {
	env := env{getenv: func(k string) string {
		return map[string]string{"AGENT_BRIDGE_DB": "/env.db", "AGENT_BRIDGE_TTL": "2h", "AGENT_BRIDGE_RATE_PER_MINUTE": "0"}[k]
	}, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	o, _, err := parse(env, "serve", []string{"--ttl", "5m"})
	if err != nil {
		t.Fatal(err)
	}
	if o.db != "/env.db" || o.ttl.String() != "5m0s" || o.perMinute != 0 {
		t.Fatalf("db %q ttl %s per-minute %d", o.db, o.ttl, o.perMinute)
	}
	env.getenv = func(k string) string { return map[string]string{"AGENT_BRIDGE_TTL": "soon"}[k] }
	if _, _, err := parse(env, "serve", nil); err == nil || !strings.Contains(err.Error(), "AGENT_BRIDGE_TTL") {
		t.Fatalf("bad environment value: %v", err)
	}
}

// Text agents wrote (roles, message bodies) reaches a person's terminal
// through list, show, status and watch with every control character made
// visible, so it cannot redraw the screen or hide what it says.
func TestCLIOutputIsSanitised(t *testing.T) {
	home := t.TempDir()
	db := filepath.Join(home, "b.db")
	p := launch(t, home, home, nil, db)
	evil := "backend\x1b[2J\x1b[1;1Hsandbox: on\u202e"
	res := p.ok("create_conversation", map[string]any{"my_role": evil, "partner_role": "frontend"})
	a := session{conv: res["conversation_id"].(string), id: "a", token: res["session_a_token"].(string)}
	p.ok("send_to_partner", a.args(map[string]any{"message": "hi\x1b]52;c;cHduZWQ=\x07 there"}))
	p.close()
	for _, args := range [][]string{{"list"}, {"show", a.conv}, {"status"}} {
		out, _, code := runCLI(t, home, append(args, "--db", db)...)
		if code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		if strings.ContainsAny(out, "\x1b\x07\u202e") {
			t.Errorf("%v printed a raw control character: %q", args, out)
		}
		if !strings.Contains(out, `\x1b`) {
			t.Errorf("%v does not show the escape visibly: %q", args, out)
		}
	}
}
