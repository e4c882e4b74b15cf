package bridge_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// taskRig is a team on one SQLite file, with time under the test's
// control; more services on the same file stand for more processes.
type taskRig struct {
	path string
	now  *time.Time
	mu   sync.Mutex // guards *now for services called concurrently
	key  byte
	svc  *bridge.Service
	a    bridge.Caller
	ws   []bridge.Caller
	conv string
}

func newTaskRig(t *testing.T, workers ...bridge.Member) *taskRig {
	t.Helper()
	return newTaskRigKey(t, 7, workers...)
}

func newTaskRigKey(t *testing.T, key byte, workers ...bridge.Member) *taskRig {
	t.Helper()
	r := &taskRig{path: filepath.Join(t.TempDir(), "b.db"), key: key}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	r.now = &now
	r.svc = r.open(t)
	_, r.a, r.ws = team(t, r.svc, workers...)
	r.conv = r.a.ConversationID
	return r
}

func (r *taskRig) open(t *testing.T) *bridge.Service {
	t.Helper()
	db, err := sqlite.Open(context.Background(), r.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := bridge.DefaultConfig()
	cfg.SessionLimits, cfg.CreateLimits, cfg.CreatorLimits = nil, nil, nil
	cfg.Now = func() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return *r.now }
	var key token.Key
	key[0] = r.key
	return bridge.NewService(db, key, nil, cfg, nil)
}

func (r *taskRig) advance(d time.Duration) { r.mu.Lock(); *r.now = r.now.Add(d); r.mu.Unlock() }

func (r *taskRig) inbox(t *testing.T, c bridge.Caller) []bridge.Message {
	t.Helper()
	in, err := r.svc.CheckMessages(context.Background(), c, bridge.CheckInput{})
	if err != nil {
		t.Fatal(err)
	}
	return in.Messages
}

func (r *taskRig) audit(t *testing.T, tool string) []bridge.AuditEntry {
	t.Helper()
	rows, err := r.svc.Audit(context.Background(), bridge.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []bridge.AuditEntry
	for _, e := range rows {
		if tool == "" || e.Tool == tool {
			out = append(out, e)
		}
	}
	return out
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// The lifecycle: an open task is announced to everyone, claimed by one of
// two concurrent claimers (the other told who won), progressed and
// finished, each change told to the creator and audited.
func TestTaskLifecycleAndConcurrentClaim(t *testing.T) {
	ctx := context.Background()
	r := newTaskRig(t, "w1", "w2")
	task := must[bridge.TaskResult](t)(r.svc.CreateTask(ctx, r.a, bridge.NewTask{Title: "fix login", Description: "token ghp_Zx8vQ2mN4kL7pR9sT1uW3yA5bC6dE8fG0hJ2", Files: []string{"src/auth/login.go"}}))
	if task.Task.State != bridge.TaskOpen || task.Task.ID != 1 || strings.Contains(task.Task.Description, "ghp_") {
		t.Fatalf("created %+v", task.Task)
	}
	for _, w := range r.ws {
		if msgs := r.inbox(t, w); len(msgs) != 1 || !msgs[0].System || !strings.Contains(msgs[0].Body, `New open task 1 "fix login"`) {
			t.Fatalf("announcement: %+v", msgs)
		}
	}
	// Two processes claim at once: exactly one wins.
	svc2 := r.open(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, svc := range []*bridge.Service{r.svc, svc2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svc.ClaimTask(ctx, r.ws[i], 1)
		}()
	}
	wg.Wait()
	winner, loser := "w1", 1
	if errs[0] != nil {
		winner, loser = "w2", 0
	}
	if errs[1-loser] != nil || bridge.KindOf(errs[loser]) != bridge.EConflict || !strings.Contains(bridge.MessageOf(errs[loser]), winner+" claimed it") {
		t.Fatalf("claims: %v", errs)
	}
	w := r.ws[1-loser]
	if msgs := r.inbox(t, r.a); len(msgs) != 1 || !strings.Contains(msgs[0].Body, winner+" claimed task 1") {
		t.Fatalf("creator told: %+v", msgs)
	}
	must[bridge.TaskResult](t)(r.svc.ProgressTask(ctx, w, 1, bridge.TaskInputRequired, "which provider?"))
	done := must[bridge.TaskResult](t)(r.svc.FinishTask(ctx, w, 1, "", "fixed; tests added"))
	if done.Task.State != bridge.TaskCompleted || done.Task.Note != "fixed; tests added" {
		t.Fatalf("finished %+v", done.Task)
	}
	msgs := r.inbox(t, r.a)
	if len(msgs) != 2 || !strings.Contains(msgs[0].Body, "input_required") || !strings.Contains(msgs[1].Body, "finished task 1") {
		t.Fatalf("creator told: %+v", msgs)
	}
	page := must[bridge.TaskPage](t)(r.svc.ListTasks(ctx, r.a, bridge.TaskQuery{State: bridge.TaskCompleted}))
	if len(page.Tasks) != 1 || page.More {
		t.Fatalf("list: %+v", page)
	}
	// create, 2 claims (one refused), progress, finish, list.
	if n := len(r.audit(t, "tasks")); n != 6 {
		t.Fatalf("%d task audit rows", n)
	}
}

// Bad input: each a specific error, nothing changed, one audit row.
func TestBadTaskAndLeaseInputChangesNothingAndIsAuditedOnce(t *testing.T) {
	ctx := context.Background()
	r := newTaskRig(t, "w1", "w2")
	must[bridge.TaskResult](t)(r.svc.CreateTask(ctx, r.a, bridge.NewTask{Title: "open one"}))
	must[bridge.TaskResult](t)(r.svc.CreateTask(ctx, r.a, bridge.NewTask{Title: "w1's", Assignee: "w1"}))
	must[bridge.LeaseResult](t)(r.svc.LeasePaths(ctx, r.ws[0], bridge.LeaseInput{Paths: []string{"src/auth/**"}, Exclusive: true}))
	w1, w2 := r.ws[0], r.ws[1]
	cases := []struct {
		name string
		call func() error
		kind bridge.ErrorKind
		text string
	}{
		{"unknown task", func() error { _, err := r.svc.ClaimTask(ctx, w1, 99); return err }, bridge.ENotFound, "has no task 99"},
		{"claim a taken task", func() error { _, err := r.svc.ClaimTask(ctx, w2, 2); return err }, bridge.EConflict, "w1 claimed it"},
		{"finish someone else's", func() error { _, err := r.svc.FinishTask(ctx, w2, 2, "", "done"); return err }, bridge.EForbidden, "assigned to w1"},
		{"finish without a note", func() error { _, err := r.svc.FinishTask(ctx, w1, 2, "", " "); return err }, bridge.EInvalid, "note is required"},
		{"hand to a non-member", func() error { _, err := r.svc.HandTask(ctx, w1, 2, "nobody", ""); return err }, bridge.ENotFound, `"nobody" is not a member`},
		{"cancel by a non-creator", func() error { _, err := r.svc.CancelTask(ctx, w1, 2, ""); return err }, bridge.EForbidden, "only task 2's creator"},
		{"create without a title", func() error { _, err := r.svc.CreateTask(ctx, r.a, bridge.NewTask{}); return err }, bridge.EInvalid, "title is required"},
		{"empty glob", func() error { _, err := r.svc.LeasePaths(ctx, w2, bridge.LeaseInput{Paths: []string{" "}}); return err }, bridge.EInvalid, "paths[0] is empty"},
		{"absolute glob", func() error {
			_, err := r.svc.LeasePaths(ctx, w2, bridge.LeaseInput{Paths: []string{"docs/**", "/etc/passwd"}})
			return err
		}, bridge.EInvalid, "paths[1] \"/etc/passwd\" is absolute"},
		{"escaping glob", func() error {
			_, err := r.svc.LeasePaths(ctx, w2, bridge.LeaseInput{Paths: []string{"../x"}})
			return err
		}, bridge.EInvalid, "leaves the repository"},
		{"over-long glob", func() error {
			_, err := r.svc.LeasePaths(ctx, w2, bridge.LeaseInput{Paths: []string{strings.Repeat("a/", 300)}})
			return err
		}, bridge.ETooLarge, "at most 512"},
		{"TTL too short", func() error {
			_, err := r.svc.LeasePaths(ctx, w2, bridge.LeaseInput{Paths: []string{"docs"}, TTL: time.Second})
			return err
		}, bridge.EInvalid, "ttl_seconds must be 10 to 86400"},
		{"TTL too long", func() error {
			_, err := r.svc.LeasePaths(ctx, w2, bridge.LeaseInput{Paths: []string{"docs"}, TTL: 48 * time.Hour})
			return err
		}, bridge.EInvalid, "ttl_seconds must be"},
		{"conflicting lease", func() error {
			_, err := r.svc.LeasePaths(ctx, w2, bridge.LeaseInput{Paths: []string{"docs", "src/auth/login.go"}})
			return err
		}, bridge.EConflict, `held exclusively by w1 (role worker) until`},
		{"release another's lease", func() error { _, err := r.svc.ReleaseLease(ctx, w2, 1); return err }, bridge.EForbidden, "held by w1"},
	}
	for _, tc := range cases {
		before := taskState(t, r)
		rows := len(r.audit(t, ""))
		err := tc.call()
		if bridge.KindOf(err) != tc.kind || !strings.Contains(bridge.MessageOf(err), tc.text) {
			t.Errorf("%s: %v (%s), want %s containing %q", tc.name, err, bridge.KindOf(err), tc.kind, tc.text)
			continue
		}
		if after := taskState(t, r); after != before {
			t.Errorf("%s changed state:\n%s\n%s", tc.name, before, after)
		}
		got := r.audit(t, "")
		if len(got) != rows+1 || got[len(got)-1].Outcome != bridge.OutcomeRefused || got[len(got)-1].ErrorKind != tc.kind {
			t.Errorf("%s: %d audit rows after %d: %+v", tc.name, len(got), rows, got[len(got)-1])
		}
	}
}

// taskState renders tasks, live leases and message counts.
func taskState(t *testing.T, r *taskRig) string {
	t.Helper()
	ctx := context.Background()
	tasks := must[[]bridge.Task](t)(r.svc.AdminTasks(ctx, bridge.TaskFilter{ConversationID: r.conv}))
	leases := must[[]bridge.Lease](t)(r.svc.AdminLeases(ctx, r.conv))
	d := must[bridge.Detail](t)(r.svc.Show(ctx, r.conv))
	var b strings.Builder
	for _, k := range tasks {
		fmt.Fprintf(&b, "task %d %s %s %q;", k.ID, k.State, k.Assignee, k.Note)
	}
	for _, l := range leases {
		fmt.Fprintf(&b, "lease %d %s %s %v;", l.ID, l.Member, l.Pattern, l.ExpiresAt)
	}
	fmt.Fprintf(&b, "messages %d", d.Messages)
	return b.String()
}

// A silent assignee's task goes back to open in the next call that
// touches the conversation, once per silence episode; its leases are
// released; the others are told who, since when and the last note; the
// silent member hears of it when it returns.
func TestSilentAssigneesTaskIsReassignedOnce(t *testing.T) {
	ctx := context.Background()
	r := newTaskRig(t, "w1", "w2")
	must[bridge.TaskResult](t)(r.svc.CreateTask(ctx, r.a, bridge.NewTask{Title: "port the parser"}))
	r.inbox(t, r.ws[0])
	must[bridge.TaskResult](t)(r.svc.ClaimTask(ctx, r.ws[0], 1))
	must[bridge.LeaseResult](t)(r.svc.LeasePaths(ctx, r.ws[0], bridge.LeaseInput{Paths: []string{"parser/**"}, Exclusive: true, TaskID: 1}))
	must[bridge.TaskResult](t)(r.svc.ProgressTask(ctx, r.ws[0], 1, "", "lexer done"))
	last := *r.now
	for _, c := range []bridge.Caller{r.a, r.ws[1]} {
		r.inbox(t, c) // drain the announcements
	}
	r.advance(4 * time.Minute)
	r.inbox(t, r.a)
	if k := must[[]bridge.Task](t)(r.svc.AdminTasks(ctx, bridge.TaskFilter{ConversationID: r.conv}))[0]; k.State != bridge.TaskWorking {
		t.Fatalf("reassigned before the threshold: %+v", k)
	}
	r.advance(time.Minute + time.Millisecond) // w1 silent just over 5 minutes
	msgs := r.inbox(t, r.a)                   // this call reassigns, then reads
	if len(msgs) != 1 || !strings.Contains(msgs[0].Body, "w1 has made no call since "+bridge.FormatTime(last)) ||
		!strings.Contains(msgs[0].Body, `Last progress note: "lexer done"`) || !strings.Contains(msgs[0].Body, "1 lease released") {
		t.Fatalf("creator told: %+v", msgs)
	}
	if msgs := r.inbox(t, r.ws[1]); len(msgs) != 1 || !strings.Contains(msgs[0].Body, "went back to open") {
		t.Fatalf("w2 told: %+v", msgs)
	}
	k := must[[]bridge.Task](t)(r.svc.AdminTasks(ctx, bridge.TaskFilter{ConversationID: r.conv}))[0]
	if k.State != bridge.TaskOpen || k.Assignee != "" || !k.ReassignedFor.Equal(last) {
		t.Fatalf("task after reassignment: %+v", k)
	}
	if l := must[[]bridge.Lease](t)(r.svc.AdminLeases(ctx, r.conv)); len(l) != 0 {
		t.Fatalf("leases survived: %+v", l)
	}
	// More calls and a watchdog pass change nothing more.
	r.advance(time.Minute)
	r.inbox(t, r.ws[1])
	if n := must[[]bridge.StaleTask](t)(r.svc.Reassign(ctx)); len(n) != 0 {
		t.Fatalf("watchdog reassigned again: %+v", n)
	}
	if n := len(r.audit(t, "tasks:reassign")); n != 1 {
		t.Fatalf("%d reassignments audited", n)
	}
	// The silent member comes back: its next call says a message waits,
	// and the message says what happened.
	ret := must[bridge.TaskPage](t)(r.svc.ListTasks(ctx, r.ws[0], bridge.TaskQuery{Mine: true}))
	if ret.Unread != 1 || len(ret.Tasks) != 0 {
		t.Fatalf("returning member: %+v", ret)
	}
	if msgs := r.inbox(t, r.ws[0]); len(msgs) != 1 || !strings.Contains(msgs[0].Body, "While you were silent, your task 1") {
		t.Fatalf("returning member told: %+v", msgs)
	}
	// Another member claims and completes it.
	must[bridge.TaskResult](t)(r.svc.ClaimTask(ctx, r.ws[1], 1))
	if k := must[bridge.TaskResult](t)(r.svc.FinishTask(ctx, r.ws[1], 1, "", "done")); k.Task.State != bridge.TaskCompleted {
		t.Fatalf("%+v", k.Task)
	}
	if rep := must[bridge.AuditReport](t)(r.svc.VerifyAudit(ctx, "")); !rep.OK() {
		t.Fatalf("audit: %+v", rep.Problems)
	}
}

// Several processes touching the conversation at once after the
// threshold produce one reassignment and one announcement.
func TestRacingProcessesReassignOnce(t *testing.T) {
	ctx := context.Background()
	r := newTaskRig(t, "w1", "w2")
	must[time.Duration](t)(r.svc.SetReassignAfter(ctx, r.a, 30*time.Second))
	must[bridge.TaskResult](t)(r.svc.CreateTask(ctx, r.a, bridge.NewTask{Title: "t", Assignee: "w1"}))
	r.inbox(t, r.ws[1])
	r.inbox(t, r.a)
	r.advance(31 * time.Second)
	svcs := []*bridge.Service{r.svc, r.open(t), r.open(t), r.open(t)}
	var wg sync.WaitGroup
	for i, svc := range svcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			switch i {
			case 0:
				_, err = svc.Reassign(ctx) // a watchdog
			case 1:
				_, err = svc.Reassign(ctx) // a second watchdog
			case 2:
				_, err = svc.ListTasks(ctx, r.a, bridge.TaskQuery{})
			default:
				_, err = svc.PartnerStatus(ctx, r.ws[1])
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(r.audit(t, "tasks:reassign")); n != 1 {
		t.Fatalf("%d reassignments", n)
	}
	if msgs := r.inbox(t, r.a); len(msgs) != 1 || !strings.Contains(msgs[0].Body, "went back to open") {
		t.Fatalf("creator told: %+v", msgs)
	}
}

// Leases: shared leases share, exclusive ones exclude; renew and release
// are the holder's; expired leases are ignored and cleaned up; a task's
// leases end with it.
func TestLeasesConflictRenewReleaseExpire(t *testing.T) {
	ctx := context.Background()
	r := newTaskRig(t, "w1", "w2")
	w1, w2 := r.ws[0], r.ws[1]
	must[bridge.LeaseResult](t)(r.svc.LeasePaths(ctx, w1, bridge.LeaseInput{Paths: []string{"docs/**"}}))
	must[bridge.LeaseResult](t)(r.svc.LeasePaths(ctx, w2, bridge.LeaseInput{Paths: []string{"docs/api.md"}}))
	if _, err := r.svc.LeasePaths(ctx, w2, bridge.LeaseInput{Paths: []string{"docs"}, Exclusive: true}); bridge.KindOf(err) != bridge.EConflict || !strings.Contains(bridge.MessageOf(err), "held shared by w1") {
		t.Fatalf("exclusive over shared: %v", err)
	}
	// src/authz is not under src/auth.
	must[bridge.LeaseResult](t)(r.svc.LeasePaths(ctx, w1, bridge.LeaseInput{Paths: []string{"src/auth"}, Exclusive: true, TTL: time.Minute}))
	must[bridge.LeaseResult](t)(r.svc.LeasePaths(ctx, w2, bridge.LeaseInput{Paths: []string{"src/authz/**"}, Exclusive: true}))
	renewed := must[bridge.LeaseResult](t)(r.svc.RenewLease(ctx, w1, 3, 2*time.Minute))
	if !renewed.Leases[0].ExpiresAt.Equal(r.now.Add(2 * time.Minute)) {
		t.Fatalf("renewed %+v", renewed.Leases)
	}
	r.advance(2 * time.Minute)
	// Expired: ignored by reads, so the path is free.
	must[bridge.LeaseResult](t)(r.svc.LeasePaths(ctx, w2, bridge.LeaseInput{Paths: []string{"src/auth/x.go"}, Exclusive: true}))
	if _, err := r.svc.RenewLease(ctx, w1, 3, time.Minute); bridge.KindOf(err) != bridge.EExpired {
		t.Fatalf("renew an expired lease: %v", err)
	}
	must[bridge.LeaseResult](t)(r.svc.ReleaseLease(ctx, w2, 4))
	if live := must[bridge.LeaseResult](t)(r.svc.ListLeases(ctx, r.a)); len(live.Leases) != 3 {
		t.Fatalf("live leases: %+v", live.Leases)
	}
	cl := must[bridge.Cleanup](t)(r.svc.Cleanup(ctx))
	if cl.Leases != 1 {
		t.Fatalf("cleanup removed %d leases", cl.Leases)
	}
	// A task's leases end with it.
	must[bridge.TaskResult](t)(r.svc.CreateTask(ctx, r.a, bridge.NewTask{Title: "t", Assignee: "w1"}))
	must[bridge.LeaseResult](t)(r.svc.LeasePaths(ctx, w1, bridge.LeaseInput{Paths: []string{"lib"}, Exclusive: true, TaskID: 1}))
	if done := must[bridge.TaskResult](t)(r.svc.FinishTask(ctx, w1, 1, bridge.TaskFailed, "blocked upstream")); done.Released != 1 {
		t.Fatalf("finish released %d", done.Released)
	}
	conflicts := must[[]bridge.GuardConflict](t)(r.svc.Guard(ctx, bridge.GuardQuery{ConversationID: r.conv, Member: "a"}, []string{"lib/x.go", "docs/a.md", "src/auth/x.go"}))
	if len(conflicts) != 1 || conflicts[0].File != "src/auth/x.go" || conflicts[0].Lease.Member != "w2" {
		t.Fatalf("guard: %+v", conflicts)
	}
}

// A task or lease row changed without the key is not acted on and is
// reported by audit --verify.
func TestForgedTaskAndLeaseRowsAreRefusedAndReported(t *testing.T) {
	ctx := context.Background()
	r := newTaskRig(t, "w1")
	must[bridge.TaskResult](t)(r.svc.CreateTask(ctx, r.a, bridge.NewTask{Title: "t", Assignee: "w1"}))
	must[bridge.LeaseResult](t)(r.svc.LeasePaths(ctx, r.ws[0], bridge.LeaseInput{Paths: []string{"src"}, Exclusive: true}))
	raw, err := sql.Open("sqlite", r.path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{`UPDATE tasks SET assignee = 'a'`, `UPDATE leases SET member_id = 'a'`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.svc.FinishTask(ctx, r.a, 1, "", "done"); bridge.KindOf(err) != bridge.EUnauthorized || !strings.Contains(bridge.MessageOf(err), "MAC does not verify") {
		t.Fatalf("forged task: %v", err)
	}
	if c := must[[]bridge.GuardConflict](t)(r.svc.Guard(ctx, bridge.GuardQuery{}, []string{"src/x.go"})); len(c) != 0 {
		t.Fatalf("a forged lease blocked: %+v", c)
	}
	rep := must[bridge.AuditReport](t)(r.svc.VerifyAudit(ctx, ""))
	var got []string
	for _, p := range rep.Problems {
		got = append(got, p.Reason)
	}
	if all := strings.Join(got, "\n"); !strings.Contains(all, "task 1 of") || !strings.Contains(all, "lease 1 of") {
		t.Fatalf("verify: %s", all)
	}
}

// Export and import carry tasks and leases; the importing bridge seals
// them under its own key, so they verify and act there.
func TestExportImportCarriesTasksAndLeases(t *testing.T) {
	ctx := context.Background()
	r := newTaskRig(t, "w1")
	must[bridge.TaskResult](t)(r.svc.CreateTask(ctx, r.a, bridge.NewTask{Title: "open one", Files: []string{"a.go"}}))
	must[bridge.TaskResult](t)(r.svc.CreateTask(ctx, r.a, bridge.NewTask{Title: "w1's", Assignee: "w1"}))
	must[bridge.TaskResult](t)(r.svc.ProgressTask(ctx, r.ws[0], 2, "", "half"))
	must[bridge.LeaseResult](t)(r.svc.LeasePaths(ctx, r.ws[0], bridge.LeaseInput{Paths: []string{"src/**"}, Exclusive: true, TaskID: 2}))
	snap := must[bridge.Snapshot](t)(r.svc.Export(ctx, r.conv))
	var buf strings.Builder
	if err := bridge.WriteSnapshot(&buf, snap, *r.now); err != nil {
		t.Fatal(err)
	}
	back, err := bridge.ReadSnapshot(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	other := newTaskRigKey(t, 8, "w9") // another database, another key
	if _, err := other.svc.Import(ctx, back, false); err != nil {
		t.Fatal(err)
	}
	tasks := must[[]bridge.Task](t)(other.svc.AdminTasks(ctx, bridge.TaskFilter{ConversationID: r.conv}))
	if len(tasks) != 2 || tasks[1].Assignee != "w1" || tasks[1].Note != "half" || tasks[0].Files[0] != "a.go" {
		t.Fatalf("imported tasks %+v", tasks)
	}
	if c := must[[]bridge.GuardConflict](t)(other.svc.Guard(ctx, bridge.GuardQuery{ConversationID: r.conv, Member: "a"}, []string{"src/x.go"})); len(c) != 1 || c[0].Lease.TaskID != 2 {
		t.Fatalf("imported lease: %+v", c)
	}
	if rep := must[bridge.AuditReport](t)(other.svc.VerifyAudit(ctx, "")); !rep.OK() {
		t.Fatalf("imported rows do not verify: %+v", rep.Problems)
	}
	// A malformed task in an export is refused, naming it; nothing stored.
	back.Tasks[0].State = "done"
	third := newTaskRigKey(t, 9, "w8")
	if _, err := third.svc.Import(ctx, back, false); bridge.KindOf(err) != bridge.EInvalid || !strings.Contains(bridge.MessageOf(err), "task 1 of the export") {
		t.Fatalf("malformed task: %v", err)
	}
	if got := must[[]bridge.Task](t)(third.svc.AdminTasks(ctx, bridge.TaskFilter{})); len(got) != 0 {
		t.Fatalf("partial import: %+v", got)
	}
}

// A member waiting in check_messages is enough: its heartbeat beat
// reopens a silent assignee's task, and the wait delivers the notice.
func TestWaitingMemberReopensASilentAssigneesTask(t *testing.T) {
	ctx := context.Background()
	r := newTaskRig(t, "w1")
	must[time.Duration](t)(r.svc.SetReassignAfter(ctx, r.a, 30*time.Second))
	must[bridge.TaskResult](t)(r.svc.CreateTask(ctx, r.a, bridge.NewTask{Title: "t", Assignee: "w1"}))
	r.inbox(t, r.a)
	done := make(chan bridge.Inbox, 1)
	go func() {
		in, err := r.svc.CheckMessages(ctx, r.a, bridge.CheckInput{Wait: 5 * time.Minute})
		if err != nil {
			t.Error(err)
		}
		done <- in
	}()
	// Only once the call waits does time move on: the first part of the
	// call (which also checks for silent assignees) saw nothing stale.
	for r.svc.Waiters() == 0 {
		runtime.Gosched()
	}
	r.advance(31 * time.Second) // past the threshold, and past a's beat interval (10 s)
	// Wake the wait with a write on a topic it watches (no message): it
	// finds nothing, beats, and the beat reopens the task.
	in := pokeUntilAnswered(t, r, done)
	if len(in.Messages) != 1 || !strings.Contains(in.Messages[0].Body, "went back to open") {
		t.Fatalf("waiter got %+v", in.Messages)
	}
	rows := r.audit(t, "")
	if n := len(r.audit(t, "tasks:reassign")); n != 1 || rows[len(rows)-2].Tool != "tasks:reassign" || !strings.Contains(rows[len(rows)-1].Detail, "after waiting") {
		t.Fatalf("%d reassignments; the last rows %+v", n, rows[len(rows)-2:])
	}
}

// pokeUntilAnswered wakes the waits of r's creator (a write raising its
// inbox topic, with no message) until the wait answers on done: a poke may
// land before the wait watches, so it pokes again.
func pokeUntilAnswered(t *testing.T, r *taskRig, done <-chan bridge.Inbox) bridge.Inbox {
	t.Helper()
	ctx := context.Background()
	poke, err := sqlite.Open(ctx, r.path)
	if err != nil {
		t.Fatal(err)
	}
	defer poke.Close()
	for range 200 {
		if err := poke.Update(ctx, func(tx bridge.Tx) error { tx.Signal(bridge.InboxTopic(r.conv, "a")); return nil }); err != nil {
			t.Fatal(err)
		}
		select {
		case in := <-done:
			return in
		case <-time.After(50 * time.Millisecond): // poke again
		}
	}
	t.Fatal("the waiting member never answered")
	return bridge.Inbox{}
}

// The same through a wait on several conversations: the beat reopens a
// silent assignee's task in any conversation waited on.
func TestWaitOnSeveralConversationsReopensASilentAssigneesTask(t *testing.T) {
	ctx := context.Background()
	r := newTaskRig(t, "w1")
	_, a2, _ := team(t, r.svc, "w9")
	must[time.Duration](t)(r.svc.SetReassignAfter(ctx, a2, 30*time.Second))
	must[bridge.TaskResult](t)(r.svc.CreateTask(ctx, a2, bridge.NewTask{Title: "t", Assignee: "w9"}))
	r.inbox(t, r.a)
	r.inbox(t, a2)
	done := make(chan bridge.Inbox, 1)
	go func() {
		in, err := r.svc.CheckAny(ctx, []bridge.Caller{r.a, a2}, bridge.CheckInput{Wait: 5 * time.Minute})
		if err != nil {
			t.Error(err)
		}
		done <- in
	}()
	for r.svc.Waiters() == 0 {
		runtime.Gosched()
	}
	r.advance(31 * time.Second)
	in := pokeUntilAnswered(t, r, done)
	if in.Conversation.ID != a2.ConversationID || len(in.Messages) != 1 || !strings.Contains(in.Messages[0].Body, "went back to open") {
		t.Fatalf("waiter got %s %+v", in.Conversation.ID, in.Messages)
	}
}

// A task handed at creation to a member that never made a call reopens
// once the member has been silent since joining for the threshold: no
// call at all is the longest silence.
func TestTaskOfAMemberThatNeverCalledReopens(t *testing.T) {
	ctx := context.Background()
	r := newTaskRig(t, "w1")
	// The two-seat shape: seat b exists from the start, before any call.
	c, err := r.svc.CreateConversation(ctx, "lead", "reviewer")
	if err != nil {
		t.Fatal(err)
	}
	a := bridge.Caller{ConversationID: c.Conversation.ID, Session: "a", Token: c.TokenA}
	must[bridge.TaskResult](t)(r.svc.CreateTask(ctx, a, bridge.NewTask{Title: "review", Assignee: "b"}))
	r.advance(5*time.Minute + time.Millisecond)
	msgs := r.inbox(t, a) // this call reopens it
	if len(msgs) != 1 || !strings.Contains(msgs[0].Body, "its assignee b has made no call since") {
		t.Fatalf("creator told: %+v", msgs)
	}
	if k := must[[]bridge.Task](t)(r.svc.AdminTasks(ctx, bridge.TaskFilter{ConversationID: a.ConversationID}))[0]; k.State != bridge.TaskOpen || k.Assignee != "" {
		t.Fatalf("task of a member that never called: %+v", k)
	}
	r.advance(time.Hour)
	if msgs := r.inbox(t, a); len(msgs) != 0 {
		t.Fatalf("reopened again: %+v", msgs)
	}
}
