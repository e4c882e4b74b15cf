package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
)

func TestStatusAndWatchdog(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	pa := launch(t, home, home, nil, db)
	pb := launch(t, home, home, nil, db)
	a, b := create(pa)
	pb.ok("update_my_status", b.args(map[string]any{"status": "working"}))
	pb.kill9() // b's agent dies

	// Two watchdogs at once: each silence is reported once in all.
	var mu sync.Mutex
	var events []map[string]any
	changed := make(chan struct{}, 1) // a new event arrived
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	for i := 0; i < 2; i++ {
		cmd := exec.CommandContext(ctx, binary, "watchdog", "--db", db, "--silent-after", "1s", "--interval", "100ms", "--notify-partner", "--json",
			"--exec", "echo $AGENT_BRIDGE_EVENT $AGENT_BRIDGE_EVENT_SESSION >> "+filepath.Join(home, "exec.log"))
		cmd.Env = baseEnv(home)
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				var ev map[string]any
				json.Unmarshal(sc.Bytes(), &ev)
				mu.Lock()
				events = append(events, ev)
				mu.Unlock()
				select {
				case changed <- struct{}{}:
				default:
				}
			}
			cmd.Wait()
		}()
	}
	count := func(kind, sess string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, ev := range events {
			if ev["event"] == kind && ev["session_id"] == sess {
				n++
			}
		}
		return n
	}
	// waitFor waits for the watchdogs to print an event that makes ok
	// true; meanwhile, with beat set, a's agent keeps calling every 100ms.
	waitFor := func(what string, ok func() bool, beat func()) {
		t.Helper()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		deadline := time.After(20 * time.Second)
		for !ok() {
			select {
			case <-changed:
			case <-tick.C:
				if beat != nil {
					beat()
				}
			case <-deadline:
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("timed out waiting for %s; events %v", what, events)
			}
		}
	}
	aCalls := func() { pa.ok("update_my_status", a.args(map[string]any{"status": "waiting"})) }
	// a keeps calling; b is silent.
	waitFor("silent b", func() bool { return count("silent", "b") >= 1 }, aCalls)

	out, _, code := runCLI(t, home, "status", "--db", db, "--silent-after", "1s")
	if code != 0 || !strings.Contains(out, "SILENT") || !strings.Contains(out, "working") {
		t.Fatalf("status: %d %q", code, out)
	}
	out, _, _ = runCLI(t, home, "status", "--db", db, "--silent-after", "1s", "--json")
	var st []map[string]any
	json.Unmarshal([]byte(out), &st)
	if len(st) != 2 || st[1]["silent"] != true || st[0]["silent"] != false {
		t.Fatalf("status --json: %s", out)
	}

	// The partner got a notice from the bridge, not from b.
	msgs := pa.ok("check_messages", a.args(nil))["messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["from"] != "bridge" || !strings.Contains(msgs[0].(map[string]any)["message"].(string), "silent") {
		t.Fatalf("partner notice: %v", msgs)
	}

	// b comes back.
	pb2 := launch(t, home, home, nil, db)
	pb2.ok("check_messages", b.args(nil))
	waitFor("b back", func() bool { return count("back", "b") >= 1 }, aCalls)
	// Now b keeps calling and a falls silent: its report takes a second of
	// silence, ten rounds of each watchdog, in which neither may report b
	// again.
	bCalls := func() { pb2.ok("update_my_status", b.args(map[string]any{"status": "working"})) }
	waitFor("silent a", func() bool { return count("silent", "a") >= 1 }, bCalls)
	// --exec runs after the event is printed.
	execLog := func() string { log, _ := os.ReadFile(filepath.Join(home, "exec.log")); return string(log) }
	waitFor("--exec for silent a", func() bool { return strings.Count(execLog(), "\n") >= 3 }, bCalls)
	cancel()
	wg.Wait()
	if n := count("silent", "b"); n != 1 {
		t.Errorf("silence of b reported %d times", n)
	}
	if n := count("back", "b"); n != 1 {
		t.Errorf("return of b reported %d times", n)
	}
	if n := count("silent", "a"); n != 1 {
		t.Errorf("silence of a reported %d times", n)
	}
	if log := execLog(); log != "silent b\nback b\nsilent a\n" {
		t.Errorf("--exec ran with %q", log)
	}
	out, _, _ = runCLI(t, home, "audit", "--db", db, "-n", "0")
	if strings.Count(out, "watchdog") != 3 {
		t.Errorf("audit has %d watchdog rows:\n%s", strings.Count(out, "watchdog"), out)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	home := t.TempDir()
	db1, db2 := filepath.Join(home, "one.db"), filepath.Join(home, "two.db")
	p := launch(t, home, home, nil, db1)
	a, b := create(p)
	p.ok("send_to_partner", a.args(map[string]any{"message": "read one", "files_involved": []any{"x.go"}}))
	p.ok("check_messages", b.args(nil))
	p.ok("send_to_partner", b.args(map[string]any{"message": "unread \"quoted\"\nline two", "action_type": "question"}))
	p.ok("update_my_status", a.args(map[string]any{"status": "blocked"}))
	p.close()

	exp1 := filepath.Join(home, "c.jsonl")
	if _, stderr, code := runCLI(t, home, "export", a.conv, "--db", db1, "--out", exp1); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	// Restoring onto a new machine: the database does not exist yet, and
	// import creates it with its key, both owner-only.
	if _, stderr, code := runCLI(t, home, "import", exp1, "--db", db2); code != 0 || !strings.Contains(stderr, "created a new database at "+db2) {
		t.Fatalf("import into a new database: %d %s", code, stderr)
	}
	for _, f := range []string{db2, db2 + ".key"} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, fi, err)
		}
	}
	if _, stderr, code := runCLI(t, home, "tokens", a.conv, "--db", db2); code != 0 {
		t.Fatalf("tokens in the new database: %s", stderr)
	}
	exp2, _, _ := runCLI(t, home, "export", a.conv, "--db", db2)
	data1, _ := os.ReadFile(exp1)
	if strip(string(data1)) != strip(exp2) {
		t.Fatalf("round trip differs:\n%s\n---\n%s", strip(string(data1)), strip(exp2))
	}
	// No clobbering; --rename imports a copy.
	if _, stderr, code := runCLI(t, home, "import", exp1, "--db", db2); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Fatalf("second import: %d %s", code, stderr)
	}
	out, _, code := runCLI(t, home, "import", exp1, "--db", db2, "--rename", "--json")
	var r map[string]any
	json.Unmarshal([]byte(out), &r)
	if code != 0 || r["conversation_id"] == a.conv || r["messages"] != 2.0 {
		t.Fatalf("rename import: %q", out)
	}
	// A file that is not an export is refused with a reason.
	bad := filepath.Join(home, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"type":"header","format":"agent-bridge-conversation","version":9}`+"\n"), 0o600)
	if _, stderr, code := runCLI(t, home, "import", bad, "--db", db2); code != 1 || !strings.Contains(stderr, "version 9") {
		t.Fatalf("bad version: %d %s", code, stderr)
	}
}

// strip drops what differs between databases by design: the header's
// export time and the audit lines.
func strip(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if strings.Contains(l, `"type":"header"`) || strings.Contains(l, `"type":"audit"`) {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// A backup taken while five pairs exchange messages opens, passes
// integrity_check and holds every message acknowledged before it began.
func TestBackupWhileWriting(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	var mu sync.Mutex
	acked := map[string]bool{}
	ackedCh := make(chan struct{}, 1) // a send was acknowledged
	var ackedBefore map[string]bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var firstB session
	for i := 0; i < 5; i++ {
		p := launch(t, home, home, nil, db)
		a, b := create(p)
		if i == 0 {
			firstB = b
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf("pair %d message %d", i, n)
				if res, err := p.call("send_to_partner", a.args(map[string]any{"message": body})); err == nil && !res.IsError {
					mu.Lock()
					acked[body] = true
					mu.Unlock()
					select {
					case ackedCh <- struct{}{}:
					default:
					}
				}
			}
		}(i)
	}
	// waitAcked waits until at least n sends were acknowledged in all.
	waitAcked := func(n int) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			select {
			case <-ackedCh:
			case <-deadline:
				t.Fatalf("only %d of %d sends acknowledged", got, n)
			}
		}
	}
	waitAcked(20) // the writers are busy
	mu.Lock()
	ackedBefore = make(map[string]bool, len(acked))
	for k := range acked {
		ackedBefore[k] = true
	}
	mu.Unlock()
	dest := filepath.Join(home, "backup.db")
	out, stderr, code := runCLI(t, home, "backup", dest, "--db", db)
	waitAcked(len(ackedBefore) + 5) // and they go on: the backup blocked no writer for good
	close(stop)
	wg.Wait()
	if code != 0 || !strings.Contains(out, "integrity ok") {
		t.Fatalf("backup: %d %s %s", code, out, stderr)
	}
	for _, f := range []string{dest, dest + ".key"} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, fi.Mode(), err)
		}
	}
	if err := sqlite.CheckIntegrity(context.Background(), dest); err != nil {
		t.Fatal(err)
	}
	bdb, err := sqlite.Open(context.Background(), dest)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	have := map[string]bool{}
	bdb.View(context.Background(), func(tx bridge.Tx) error {
		convs, _ := tx.Conversations()
		for _, c := range convs {
			msgs, _ := tx.Messages(c.ID)
			for _, m := range msgs {
				have[m.Body] = true
			}
		}
		return nil
	})
	missing := 0
	for body := range ackedBefore {
		if !have[body] {
			missing++
		}
	}
	if missing > 0 || len(ackedBefore) == 0 {
		t.Fatalf("%d of %d messages acknowledged before the backup are missing from it", missing, len(ackedBefore))
	}
	t.Logf("backup holds all %d messages acknowledged before it began (%d in all)", len(ackedBefore), len(have))
	bdb.Close()

	// Restore as the help says: copy the backup and its key into place and
	// serve from them; the old tokens still work.
	restored := filepath.Join(t.TempDir(), "restored.db")
	for _, suffix := range []string{"", ".key"} {
		data, err := os.ReadFile(dest + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(restored+suffix, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := launch(t, home, home, nil, restored)
	if got := bodies(p, firstB); len(got) == 0 {
		t.Fatal("the restored database lost the first pair's messages, or its token")
	}
}
