package main

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The head audit --verify prints, passed back as --expect-head, catches
// rows cut from the end; --prune-older-than keeps the rest verifiable.
func TestAuditHeadAndPruneCommands(t *testing.T) {
	home := t.TempDir()
	db := filepath.Join(home, "b.db")
	p := launch(t, home, home, nil, db)
	a, _ := create(p)
	p.ok("send_to_partner", a.args(map[string]any{"message": "one"}))
	p.ok("send_to_partner", a.args(map[string]any{"message": "two"}))
	p.close()

	out, _, code := runCLI(t, home, "audit", "--verify", "--db", db)
	head := regexp.MustCompile(`head (\d+:[0-9a-f]{64})`).FindStringSubmatch(out)
	if code != 0 || head == nil {
		t.Fatalf("verify: %d %q", code, out)
	}
	if out, _, code = runCLI(t, home, "audit", "--verify", "--expect-head", head[1], "--db", db); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("verify against its own head: %d %q", code, out)
	}
	if _, stderr, code := runCLI(t, home, "audit", "--expect-head", head[1], "--db", db); code != 2 || !strings.Contains(stderr, "goes with --verify") {
		t.Fatalf("--expect-head alone: %d %q", code, stderr)
	}

	// Pruning everything older than now leaves the newest row and a checkpoint.
	if out, _, code = runCLI(t, home, "audit", "--prune-older-than", "1ns", "--db", db); code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("prune: %d %q", code, out)
	}
	if out, _, code = runCLI(t, home, "audit", "--verify", "--db", db); code != 0 || !strings.Contains(out, "pruned behind a checkpoint") {
		t.Fatalf("verify after pruning: %d %q", code, out)
	}
	out, _, _ = runCLI(t, home, "audit", "--verify", "--db", db)
	head = regexp.MustCompile(`head (\d+:[0-9a-f]{64})`).FindStringSubmatch(out)

	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)`); err != nil {
		t.Fatal(err)
	}
	if out, _, code = runCLI(t, home, "audit", "--verify", "--expect-head", head[1], "--db", db); code != 1 || !strings.Contains(out, "cut from the end") {
		t.Fatalf("verify after the tail was cut: %d %q", code, out)
	}
}

// Read-only calls are audited through the journal: a stdio server that
// ends cleanly (its client closes stdin) writes their rows before it exits.
func TestStdioShutdownWritesReadOnlyAudit(t *testing.T) {
	home := t.TempDir()
	db := filepath.Join(home, "b.db")
	p := launch(t, home, home, nil, db)
	a, _ := create(p)
	p.ok("check_partner_status", a.args(nil))
	p.ok("check_messages", a.args(map[string]any{"peek": true}))
	p.ok("check_messages", a.args(nil))
	p.close()

	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM audit WHERE tool IN ('check_partner_status', 'check_messages')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("%d audit rows of read-only calls after a clean shutdown, want 3", n)
	}
	if out, _, code := runCLI(t, home, "audit", "--verify", "--db", db); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("verify: %d %q", code, out)
	}
}

// A message edited with SQL alone: audit --verify exits 1 and names it;
// the partner receives a notice instead of the edited text.
func TestAuditVerifyReportsAnEditedMessage(t *testing.T) {
	home := t.TempDir()
	db := filepath.Join(home, "b.db")
	p := launch(t, home, home, nil, db)
	a, b := create(p)
	p.ok("send_to_partner", a.args(map[string]any{"message": "deploy to staging"}))
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE messages SET body = 'deploy to production'`); err != nil {
		t.Fatal(err)
	}
	got := p.ok("check_messages", b.args(nil))["messages"].([]any)
	if len(got) != 1 || strings.Contains(fmt.Sprint(got), "production") || !strings.Contains(fmt.Sprint(got), "withheld") {
		t.Fatalf("the edited message reached the partner: %v", got)
	}
	p.close()
	out, _, code := runCLI(t, home, "audit", "--verify", "--db", db)
	if code != 1 || !strings.Contains(out, "message 1 was edited outside agent-bridge") || !strings.Contains(out, "BROKEN") {
		t.Fatalf("verify after an edit: %d %q", code, out)
	}
}
