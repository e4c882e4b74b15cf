//go:build linux

package bridge_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// Write access to the database alone cannot forge consent: an approval
// edited without the key is not honoured, and audit --verify reports it.
func TestForgedApprovalIsNotHonoured(t *testing.T) {
	r := newYoloRig(t, true)
	ctx := context.Background()
	res, err := r.svc.EnableYolo(ctx, r.a, bridge.EnableInput{Mode: "safe"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", r.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// Approve it behind the bridge's back, as a person would have.
	_, err = raw.Exec(`UPDATE approvals SET state = 'approved', decided_by = 'terminal user root', decided_at = ?, expires_at = ? WHERE id = ?`,
		r.now.UnixMilli(), r.now.Add(5*time.Minute).UnixMilli(), res.Approval.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.svc.EnableYolo(ctx, r.a, bridge.EnableInput{RequestID: res.Approval.ID})
	if got.Token != "" || bridge.KindOf(err) != bridge.EUnauthorized || !strings.Contains(err.Error(), "outside agent-bridge") {
		t.Fatalf("a forged approval was honoured: token %q, err %v", got.Token, err)
	}
	if _, err := r.svc.Decide(ctx, res.Approval.ID, true, "terminal user test", ""); bridge.KindOf(err) != bridge.EUnauthorized {
		t.Fatalf("a person was asked to decide a forged request: %v", err)
	}
	rep, err := r.svc.VerifyAudit(ctx, "")
	if err != nil || rep.OK() || !strings.Contains(rep.Problems[len(rep.Problems)-1].Reason, res.Approval.ID) {
		t.Fatalf("verify did not report the forged approval: %+v %v", rep.Problems, err)
	}

	// An approval the bridge wrote verifies, and works.
	r2 := newYoloRig(t, true)
	if tok, _ := r2.enable(t, "safe"); tok == "" {
		t.Fatal("a genuine approval did not work")
	}
	if rep, err := r2.svc.VerifyAudit(ctx, ""); err != nil || !rep.OK() {
		t.Fatalf("a genuine approval fails verify: %+v %v", rep.Problems, err)
	}
}
