package bridge_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// auditService returns a service whose clock the test moves, and a raw
// handle on its database for tampering.
func auditService(t *testing.T) (*bridge.Service, *time.Time, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	cfg := bridge.DefaultConfig()
	cfg.Now = func() time.Time { return now }
	cfg.SessionLimits, cfg.CreateLimits = nil, nil
	var key token.Key
	key[0] = 9
	return bridge.NewService(db, key, nil, cfg, nil), &now, raw
}

func exec(t *testing.T, raw *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := raw.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

// prunedTrail writes two days of calls in one conversation and prunes the
// first day: that chain's rows 1 to 6 (the creation and five sends).
func prunedTrail(t *testing.T) (*bridge.Service, *sql.DB, bridge.Caller) {
	t.Helper()
	ctx := context.Background()
	svc, now, raw := auditService(t)
	c, _ := svc.CreateConversation(ctx, "backend", "frontend")
	a := bridge.Caller{ConversationID: c.Conversation.ID, Session: "a", Token: c.TokenA}
	for i := 0; i < 5; i++ {
		svc.Send(ctx, a, bridge.SendInput{Message: "old"})
	}
	*now = now.Add(48 * time.Hour)
	for i := 0; i < 3; i++ {
		svc.Send(ctx, a, bridge.SendInput{Message: "new"})
	}
	n, err := svc.PruneAudit(ctx, now.Add(-24*time.Hour))
	if err != nil || n != 6 {
		t.Fatalf("prune: %d rows, %v; want the 6 rows of the first day", n, err)
	}
	return svc, raw, a
}

func rowCount(t *testing.T, raw *sql.DB) int64 {
	t.Helper()
	var n int64
	if err := raw.QueryRow(`SELECT count(*) FROM audit`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPrunedTrailStillVerifies(t *testing.T) {
	ctx := context.Background()
	svc, raw, a := prunedTrail(t)
	svc.CreateConversation(ctx, "reviewer", "author") // rows after the checkpoint
	svc.CreateConversation(ctx, "reviewer", "author")
	rep, err := svc.VerifyAudit(ctx, "")
	if err != nil || !rep.OK() || rep.Checked != rowCount(t, raw) || rep.Chains != 4 {
		t.Fatalf("verify after pruning: %+v %v", rep, err)
	}
	// The messages the pruned rows named need no row now.
	if rep.Rows < 8 {
		t.Fatalf("sealed rows checked: %d", rep.Rows)
	}

	// A row cut from the end of a chain is invisible without an anchor
	// (when it stored no message), and caught with one.
	svc.UpdateStatus(ctx, a, "working")
	rep, _ = svc.VerifyAudit(ctx, "")
	if err := svc.SealHead(ctx, &rep); err != nil {
		t.Fatal(err)
	}
	head := rep.HeadString()
	exec(t, raw, `DELETE FROM audit WHERE chain = ? AND seq = (SELECT max(seq) FROM audit WHERE chain = ?)`, a.ConversationID, a.ConversationID)
	if rep, _ := svc.VerifyAudit(ctx, ""); !rep.OK() {
		t.Fatalf("a cut tail alone is not detectable, yet: %v", rep.Problems)
	}
	rep, err = svc.VerifyAudit(ctx, head)
	if err != nil || rep.OK() || !strings.Contains(rep.Problems[0].String(), "cut from the end") || rep.Problems[0].Chain != a.ConversationID {
		t.Fatalf("verify --expect-head after the tail was cut: %+v %v", rep, err)
	}
	// So is the global chain's tail, the sealing row itself.
	headSeq, _, _ := bridge.ParseHead(head)
	exec(t, raw, `DELETE FROM audit WHERE chain = '' AND seq >= ?`, headSeq)
	if rep, err = svc.VerifyAudit(ctx, head); err != nil || rep.OK() || !strings.Contains(fmt.Sprint(rep.Problems), "expected head is missing") {
		t.Fatalf("verify --expect-head after the global tail was cut: %+v %v", rep, err)
	}
	if _, err := svc.VerifyAudit(ctx, "12:nothex"); bridge.KindOf(err) != bridge.EInvalid {
		t.Fatalf("a malformed head: %v", err)
	}
}

// Deleting a kept row, the checkpoint, or more of the prefix than the
// checkpoint covers is still reported after pruning.
func TestPrunedTrailTampering(t *testing.T) {
	for name, q := range map[string]string{
		"a kept row":          `DELETE FROM audit WHERE chain <> '' AND seq = 8`,
		"the checkpoint":      `DELETE FROM audit WHERE tool = 'cli:audit-prune' AND refs LIKE 'cp:%'`,
		"past the prefix":     `DELETE FROM audit WHERE chain <> '' AND seq = 7`,
		"a forged checkpoint": `UPDATE audit SET refs = replace(refs, ':6:', ':7:') WHERE tool = 'cli:audit-prune'`,
	} {
		t.Run(name, func(t *testing.T) {
			svc, raw, _ := prunedTrail(t)
			exec(t, raw, q)
			if rep, err := svc.VerifyAudit(context.Background(), ""); err != nil || rep.OK() {
				t.Fatalf("%s went unnoticed (%v)", name, err)
			}
		})
	}
}

func TestPruneNeverEmptiesTheTrail(t *testing.T) {
	ctx := context.Background()
	svc, now, _ := auditService(t)
	svc.CreateConversation(ctx, "backend", "frontend")
	*now = now.Add(time.Hour)
	if _, err := svc.PruneAudit(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PruneAudit(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if rep, err := svc.VerifyAudit(ctx, ""); err != nil || !rep.OK() {
		t.Fatalf("verify after pruning everything old: %+v %v", rep, err)
	}
}

// Refused calls with huge arguments cannot grow the trail without bound.
func TestAuditDetailIsBounded(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := auditService(t)
	big := strings.Repeat("é", 300000)
	svc.Refuse(ctx, "send_to_partner", "", "", bridge.Errorf(bridge.EInvalid, "bad value %s", big))
	rows, _ := svc.Audit(ctx, bridge.AuditFilter{Limit: 1})
	if len(rows) != 1 || len(rows[0].Detail) > bridge.MaxAuditDetail || !strings.HasSuffix(rows[0].Detail, "[cut]") {
		t.Fatalf("detail of %d bytes", len(rows[0].Detail))
	}
	if rep, _ := svc.VerifyAudit(ctx, ""); !rep.OK() {
		t.Fatal(rep.Problems)
	}
}
