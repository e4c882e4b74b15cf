package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// One process per agent: an orchestrator opens six tasks; four workers
// claim concurrently and no task is claimed twice; one worker is killed
// mid-task; with a short threshold, two watchdogs running, its task is
// reopened and announced to the orchestrator exactly once; the killed
// worker, restarted, is told; another worker claims and completes it.
func TestTaskReassignmentAcrossProcesses(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	env := []string{"AGENT_BRIDGE_RATE_PER_MINUTE=0", "AGENT_BRIDGE_RATE_PER_HOUR=0", "AGENT_BRIDGE_RATE_PER_DAY=0", "AGENT_BRIDGE_REASSIGN_AFTER=2s"}
	orch := launch(t, home, home, env, db)
	created := orch.ok("create_conversation", map[string]any{"my_role": "orchestrator", "partner_role": "worker", "invite": true, "partner_id": "worker-1"})
	conv := created["conversation_id"].(string)
	me := session{conv, "", created["session_a_token"].(string)}
	codes := []string{created["invite_code"].(string)}
	for i := 2; i <= 4; i++ {
		codes = append(codes, orch.ok("invite_member", me.args(map[string]any{"role": "worker", "member_id": fmt.Sprintf("worker-%d", i)}))["invite_code"].(string))
	}
	workers := make([]*proc, 4)
	sessions := make([]session, 4)
	for i, code := range codes {
		workers[i] = launch(t, home, home, env, db)
		j := workers[i].ok("join_conversation", map[string]any{"invite_code": code})
		sessions[i] = session{conv, "", j["token"].(string)}
	}
	for i := 1; i <= 6; i++ {
		orch.ok("tasks", me.args(map[string]any{"action": "create", "title": fmt.Sprintf("part %d", i)}))
	}
	// Four workers claim at once, each trying the tasks in order until one
	// is theirs.
	claimed := make([]int, 4)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := 1; id <= 6; id++ {
				res, err := workers[i].call("tasks", sessions[i].args(map[string]any{"action": "claim", "task_id": id}))
				if err != nil {
					t.Error(err)
					return
				}
				if !res.IsError {
					claimed[i] = id
					return
				}
				if txt := fmt.Sprint(res.Content); !strings.Contains(txt, "claimed it") {
					t.Errorf("worker-%d claiming %d: %s", i+1, id, txt)
				}
			}
		}()
	}
	wg.Wait()
	seen := map[int]bool{}
	for i, id := range claimed {
		if id == 0 || seen[id] {
			t.Fatalf("claims %v: worker-%d got %d", claimed, i+1, id)
		}
		seen[id] = true
	}
	board := orch.ok("tasks", me.args(map[string]any{"action": "list"}))["tasks"].([]any)
	owners := map[string]int{}
	for _, k := range board {
		if a, ok := k.(map[string]any)["assignee"].(string); ok {
			owners[a]++
		}
	}
	if len(owners) != 4 || owners["worker-1"] != 1 || owners["worker-4"] != 1 {
		t.Fatalf("board owners %v", owners)
	}
	// The status board shows each worker's task.
	out, _, code := runCLI(t, home, "status", "--db", db, "--json")
	var acts []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &acts) != nil {
		t.Fatalf("status: %d %s", code, out)
	}
	for _, a := range acts {
		if a["session_id"] == "worker-1" {
			if tk, ok := a["task"].(map[string]any); !ok || tk["id"] != float64(claimed[0]) {
				t.Fatalf("status row of worker-1: %v", a)
			}
		}
	}
	// worker-1 leases its files and reports progress; the others finish.
	workers[0].ok("tasks", sessions[0].args(map[string]any{"action": "lease", "paths": []any{"parser/**"}, "task_id": claimed[0]}))
	workers[0].ok("tasks", sessions[0].args(map[string]any{"action": "progress", "task_id": claimed[0], "note": "lexer half done"}))
	for i := 1; i < 4; i++ {
		workers[i].ok("tasks", sessions[i].args(map[string]any{"action": "finish", "task_id": claimed[i], "note": "done"}))
	}
	orch.ok("check_messages", me.args(nil)) // the claim and finish notices
	workers[0].kill9()
	killed := time.Now()

	// Two watchdogs, as on two machines.
	watchdog := func() *bufio.Scanner {
		cmd := exec.Command(binary, "watchdog", "--db", db, "--interval", "100ms", "--silent-after", "1h", "--json")
		cmd.Env = append(baseEnv(home), env...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return bufio.NewScanner(out)
	}
	watchdog()
	watchdog()
	// The orchestrator waits for the announcement: woken by it, bounded.
	got := orch.ok("check_messages", me.args(map[string]any{"wait_seconds": 60}))["messages"].([]any)
	if len(got) != 1 {
		t.Fatalf("orchestrator got %v", got)
	}
	body := got[0].(map[string]any)["message"].(string)
	if got[0].(map[string]any)["from"] != "bridge" || !strings.Contains(body, fmt.Sprintf("task %d \"part %d\" went back to open", claimed[0], claimed[0])) ||
		!strings.Contains(body, "worker-1 has made no call since") || !strings.Contains(body, `"lexer half done"`) || !strings.Contains(body, "1 lease released") {
		t.Fatalf("announcement: %s", body)
	}
	t.Logf("reopened and announced %s after the kill (threshold 2s, watchdog interval 100ms)", time.Since(killed).Round(10*time.Millisecond))
	// worker-2 claims and completes it; worker-1 restarted hears of it.
	workers[1].ok("tasks", sessions[1].args(map[string]any{"action": "claim", "task_id": claimed[0]}))
	workers[1].ok("tasks", sessions[1].args(map[string]any{"action": "finish", "task_id": claimed[0], "note": "finished the parser"}))
	back := launch(t, home, home, env, db)
	mine := back.ok("tasks", sessions[0].args(map[string]any{"action": "list", "mine": true}))
	if len(mine["tasks"].([]any)) != 0 || mine["unread_messages"].(float64) < 1 {
		t.Fatalf("returning worker-1: %v", mine)
	}
	var told bool
	for _, m := range back.ok("check_messages", sessions[0].args(nil))["messages"].([]any) {
		told = told || strings.Contains(m.(map[string]any)["message"].(string), "While you were silent, your task")
	}
	if !told {
		t.Fatal("the returning worker was not told its task was reopened")
	}
	out, _, code = runCLI(t, home, "audit", "--db", db, "--json")
	var rows []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil {
		t.Fatalf("audit: %d %s", code, out)
	}
	n := 0
	for _, r := range rows {
		if r["tool"] == "tasks:reassign" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d reassignments audited", n)
	}
	// Only one announcement ever reached the orchestrator.
	hist := orch.ok("check_messages", me.args(map[string]any{"history": true}))["messages"].([]any)
	reopened := 0
	for _, m := range hist {
		if strings.Contains(m.(map[string]any)["message"].(string), "went back to open") {
			reopened++
		}
	}
	if reopened != 1 {
		t.Fatalf("%d announcements", reopened)
	}
	out, _, code = runCLI(t, home, "tasks", conv, "--db", db)
	if code != 0 || strings.Count(out, "completed") != 4 || !strings.Contains(out, "finished the parser") {
		t.Fatalf("tasks CLI:\n%s", out)
	}
}

// The guard in a real git repository: a commit touching a file under
// another member's exclusive lease is refused, naming the holder; after
// the lease is released it goes through.
func TestGuardBlocksACommitUnderAnotherMembersLease(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	repo := t.TempDir()
	gitAs := func(wantOK bool, env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = repo
		cmd.Env = append(append(baseEnv(home), "GIT_CONFIG_NOSYSTEM=1", "AGENT_BRIDGE_DB="+db), env...)
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	git := func(wantOK bool, args ...string) string { t.Helper(); return gitAs(wantOK, nil, args...) }
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(repo, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(true, "init", "-q")
	// No bridge yet: the hook passes.
	hook := fmt.Sprintf("#!/bin/sh\nexec %q guard\n", binary)
	if err := os.WriteFile(filepath.Join(repo, ".git", "hooks", "pre-commit"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	write("README.md", "hi\n")
	git(true, "add", ".")
	git(true, "commit", "-qm", "first")

	lead := launch(t, home, home, nil, db)
	created := lead.ok("create_conversation", map[string]any{"my_role": "orchestrator", "partner_role": "worker", "invite": true})
	conv := created["conversation_id"].(string)
	// The worker's server runs in the repository: its commits are its own.
	worker := launch(t, home, repo, nil, db)
	j := worker.ok("join_conversation", map[string]any{"invite_code": created["invite_code"]})
	ws := session{conv, "", j["token"].(string)}
	leased := worker.ok("tasks", ws.args(map[string]any{"action": "lease", "paths": []any{"src/auth/**"}}))
	leaseID := leased["leases"].([]any)[0].(map[string]any)["id"]

	out, _, code := runCLI(t, home, "leases", "--db", db)
	if code != 0 || !regexp.MustCompile(`(?m)^CONVERSATION\s+ID\s+HOLDER\s+ROLE\s+TASK\s+EXPIRES\s+PATH\n`+conv+`\s+1\s+b\s+exclusive\s+-\s+\S+\s+src/auth/\*\*$`).MatchString(out) {
		t.Fatalf("leases CLI:\n%s", out)
	}
	out, _, code = runCLI(t, home, "leases", conv, "--db", db, "--json")
	var ls []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &ls) != nil || len(ls) != 1 || ls[0]["member_id"] != "b" || ls[0]["exclusive"] != true {
		t.Fatalf("leases --json: %s", out)
	}
	write("src/auth/login.go", "package auth\n")
	write("docs/notes.md", "notes\n")
	git(true, "add", ".")
	// Committing as member a of the conversation (named by the environment).
	asLead := []string{"AGENT_BRIDGE_MEMBER=a", "AGENT_BRIDGE_CONVERSATION=" + conv}
	out = gitAs(false, asLead, "commit", "-qm", "touch auth")
	for _, want := range []string{"src/auth/login.go: leased by b in " + conv, "lease 1 on src/auth/**", "git commit --no-verify"} {
		if !strings.Contains(out, want) {
			t.Fatalf("refusal lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "docs/notes.md") {
		t.Fatalf("an unleased file named:\n%s", out)
	}
	// Without a name, the committer is whoever's server ran in the
	// repository root: the holder, who may commit its own leased files.
	git(true, "commit", "-qm", "the holder commits")
	write("src/auth/token.go", "package auth\n")
	git(true, "add", ".")
	gitAs(false, asLead, "commit", "-qm", "touch auth")
	worker.ok("tasks", ws.args(map[string]any{"action": "release", "lease_id": leaseID}))
	gitAs(true, asLead, "commit", "-qm", "touch auth")
	if log := git(true, "log", "--oneline"); !strings.Contains(log, "touch auth") {
		t.Fatalf("log:\n%s", log)
	}
}
