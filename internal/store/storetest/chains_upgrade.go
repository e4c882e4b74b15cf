package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/audit"
	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// LegacyAudit returns the audit rows of the fixture every store's chains
// upgrade test writes with the
// schema from before audit chains and row MACs (the last one before
// them), as agent-bridge wrote it, before opening the store to migrate it:
//
//	conversation LegacyConversation, role_a "backend", role_b "frontend",
//	  created at LegacyT0, expiring in 2100
//	members a and b, generation 0, joined at LegacyT0
//	message 1 a->b "one" (read), 2 a->b "two" (unread), 3 b->a "three" (unread),
//	  with their inbox rows
//	one open invite (code hash "legacy-invite", role "reviewer", created by a)
//	the audit rows returned here: one global chain, chained and digested as
//	  agent-bridge did before chains (audit.LegacyDigest) under key
//
// The last row's SEQ:DIGEST is the head an operator kept before upgrading.
func LegacyAudit(key token.Key) (rows []bridge.AuditEntry, head string) {
	prev := audit.Genesis
	for i, r := range []struct{ tool, sess, outcome, detail string }{
		{"create_conversation", "", bridge.OutcomeOK, "created"},
		{"send_to_partner", "a", bridge.OutcomeOK, "message 1 to b"},
		{"send_to_partner", "a", bridge.OutcomeOK, "message 2 to b"},
		{"send_to_partner", "b", bridge.OutcomeOK, "message 3 to a"},
		{"send_to_partner", "b", bridge.OutcomeRefused, "Invalid session token"},
	} {
		e := bridge.AuditEntry{Seq: int64(i + 1), At: LegacyT0.Add(time.Duration(i) * time.Second), Tool: r.tool, ConversationID: LegacyConversation,
			Session: r.sess, Outcome: r.outcome, Detail: r.detail, PrevDigest: prev}
		if r.outcome == bridge.OutcomeRefused {
			e.ErrorKind = bridge.EUnauthorized
		}
		e.Digest = audit.LegacyDigest(key.Sub("audit"), prev, audit.Record{Seq: e.Seq, At: e.At.UnixMilli(), Tool: e.Tool,
			ConversationID: e.ConversationID, Session: e.Session, Outcome: e.Outcome, ErrorKind: string(e.ErrorKind), Detail: e.Detail})
		prev = e.Digest
		rows = append(rows, e)
	}
	last := rows[len(rows)-1]
	return rows, fmt.Sprintf("%d:%s", last.Seq, last.Digest)
}

// CheckChainsUpgraded checks a store migrated from the ChainsLegacy
// fixture, through svc (a service over it with key, not used yet):
// sealing happens once and is recorded, the old
// trail verifies as the global chain's prefix against the head kept
// before the upgrade, and from then on a row without a MAC is reported.
// raw runs SQL on the store behind the bridge's back.
func CheckChainsUpgraded(t *testing.T, svc *bridge.Service, key token.Key, head string, raw func(string)) {
	t.Helper()
	ctx := context.Background()
	conv := LegacyConversation
	b := bridge.Caller{ConversationID: conv, Session: "b", Token: key.Derive(conv, "b")}
	a := bridge.Caller{ConversationID: conv, Session: "a", Token: key.Derive(conv, "a")}

	// A front seals them when it starts (a service's first call would).
	sealed, did, err := svc.SealLegacy(ctx)
	if err != nil || !did || sealed.Messages != 3 || sealed.Members != 2 || sealed.Invites != 1 || sealed.ThroughMessage != 3 {
		t.Fatalf("sealing: %+v %v %v", sealed, did, err)
	}
	if _, did, err := svc.SealLegacy(ctx); did || err != nil {
		t.Fatalf("sealed twice: %v %v", did, err)
	}
	// The kept head still verifies, the whole trail with it, and the
	// legacy tokens still work.
	rep, err := svc.VerifyAudit(ctx, head)
	if err != nil || !rep.OK() || rep.Rows != 6 {
		t.Fatalf("verify against the head kept before the upgrade: %+v %v", rep, err)
	}
	in, err := svc.CheckMessages(ctx, b, bridge.CheckInput{})
	if err != nil || len(in.Messages) != 1 || in.Messages[0].Body != "two" || in.Messages[0].Altered {
		t.Fatalf("b's legacy inbox after sealing: %+v %v", in.Messages, err)
	}
	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "after the upgrade"}); err != nil {
		t.Fatalf("a after the upgrade: %v", err)
	}
	rows, err := svc.Audit(ctx, bridge.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var sealRow *bridge.AuditEntry
	for i, r := range rows {
		if r.Tool == "cli:seal-legacy" && r.Chain == "" {
			sealRow = &rows[i]
		}
	}
	if sealRow == nil || !strings.Contains(sealRow.Detail, "3 messages through id 3, 2 members, 1 invites") {
		t.Fatalf("the global chain does not record the sealing: %+v", sealRow)
	}
	if rep, err = svc.VerifyAudit(ctx, head); err != nil || !rep.OK() {
		t.Fatalf("verify after new calls: %+v %v", rep, err)
	}
	// From now on, a row without a MAC is tampering.
	raw(`UPDATE messages SET mac = '' WHERE id = 2`)
	if rep, _ = svc.VerifyAudit(ctx, ""); !strings.Contains(fmt.Sprint(rep.Problems), "message 2 has no MAC") {
		t.Fatalf("an unsealed message after sealing: %v", rep.Problems)
	}
	if in, _ = svc.CheckMessages(ctx, b, bridge.CheckInput{History: true}); len(in.Messages) < 2 || !in.Messages[1].Altered {
		t.Fatalf("an unsealed message after sealing was delivered as genuine: %+v", in.Messages)
	}
	// And so is a legacy audit row edited now.
	raw(`UPDATE audit SET detail = 'nothing' WHERE chain = '' AND seq = 2`)
	if rep, _ = svc.VerifyAudit(ctx, ""); !strings.Contains(fmt.Sprint(rep.Problems), "row 2: content does not match") {
		t.Fatalf("an edited legacy row: %v", rep.Problems)
	}
}
