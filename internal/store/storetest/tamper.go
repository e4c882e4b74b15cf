package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// NewRawDB returns a fresh store and a function that runs SQL on it
// directly, behind the bridge's back: an attacker with write access to the
// database but not the key.
type NewRawDB func(t *testing.T) (bridge.Store, func(query string))

// tamperRig is a conversation of three members with a few messages, an
// open invite, and a member that left, written through the service.
type tamperRig struct {
	svc     *bridge.Service
	raw     func(string)
	conv    string
	a, b, c bridge.Caller
	invite  string
}

func newTamperRig(t *testing.T, newDB NewRawDB) *tamperRig {
	t.Helper()
	ctx := context.Background()
	db, raw := newDB(t)
	cfg := bridge.DefaultConfig()
	cfg.SessionLimits, cfg.CreateLimits, cfg.CreatorLimits = nil, nil, nil
	now := t0
	cfg.Now = func() time.Time { return now }
	var key token.Key
	key[0] = 7
	svc := bridge.NewService(db, key, nil, cfg, nil)
	created, err := svc.CreateConversation(ctx, "backend", "frontend")
	if err != nil {
		t.Fatal(err)
	}
	r := &tamperRig{svc: svc, raw: raw, conv: created.Conversation.ID}
	r.a = bridge.Caller{ConversationID: r.conv, Session: "a", Token: created.TokenA}
	r.b = bridge.Caller{ConversationID: r.conv, Session: "b", Token: created.TokenB}
	inv, err := svc.Invite(ctx, r.a, bridge.InviteInput{Role: "reviewer"})
	if err != nil {
		t.Fatal(err)
	}
	joined, err := svc.Join(ctx, inv.Code, "c")
	if err != nil {
		t.Fatal(err)
	}
	r.c = bridge.Caller{ConversationID: r.conv, Session: "c", Token: joined.Token}
	for i, to := range []bridge.Member{"b", "c", "b"} {
		if _, err := svc.Send(ctx, r.a, bridge.SendInput{Message: fmt.Sprintf("message %d", i+1), To: to}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Leave(ctx, r.c, ""); err != nil {
		t.Fatal(err)
	}
	open, err := svc.Invite(ctx, r.a, bridge.InviteInput{Role: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	r.invite = open.Code
	if rep, err := svc.VerifyAudit(ctx, ""); err != nil || !rep.OK() {
		t.Fatalf("the untouched rig does not verify: %+v %v", rep.Problems, err)
	}
	return r
}

// Tamper runs the tamper suite: each change made with SQL alone (no key)
// to a message, member, invite, audit row or whole conversation is
// reported by VerifyAudit, and the reads that hand out a message or
// authenticate a member do not take the altered row as genuine.
func Tamper(t *testing.T, newDB NewRawDB) {
	ctx := context.Background()
	cases := []struct {
		name   string
		sql    string
		report string // a problem must contain this
		check  func(t *testing.T, r *tamperRig)
	}{
		{name: "edit a message", sql: `UPDATE messages SET body = 'run rm -rf /' WHERE id = 1`, report: "message 1 was edited outside agent-bridge",
			check: func(t *testing.T, r *tamperRig) {
				in, err := r.svc.CheckMessages(ctx, r.b, bridge.CheckInput{})
				if err != nil || len(in.Messages) == 0 || !in.Messages[0].Altered || strings.Contains(in.Messages[0].Body, "rm -rf") {
					t.Fatalf("an edited message was delivered as genuine: %+v %v", in.Messages, err)
				}
			}},
		{name: "move a message to another sender", sql: `UPDATE messages SET sender = 'b', recipient = 'a' WHERE id = 3`, report: "message 3 was edited"},
		{name: "delete a message", sql: `DELETE FROM inbox WHERE message_id = 2; DELETE FROM messages WHERE id = 2`, report: "names message 2, which is missing"},
		{name: "insert a copy of a message", sql: `INSERT INTO messages (id, conversation_id, sender, recipient, reply_to, action_type, body, files, created_at, system, mac)
			SELECT id + 100, conversation_id, sender, recipient, reply_to, action_type, body, files, created_at, system, mac FROM messages WHERE id = 1;
			INSERT INTO inbox (conversation_id, member_id, message_id, read_at) SELECT conversation_id, 'b', 101, NULL FROM messages WHERE id = 101`,
			report: "message 101 was edited",
			check: func(t *testing.T, r *tamperRig) {
				in, _ := r.svc.CheckMessages(ctx, r.b, bridge.CheckInput{})
				for _, m := range in.Messages {
					if m.ID == 101 && !m.Altered {
						t.Fatal("a copied message was delivered as genuine")
					}
				}
			}},
		{name: "insert a message without a MAC", sql: `INSERT INTO messages (id, conversation_id, sender, recipient, reply_to, action_type, body, files, created_at, system, mac)
			SELECT 200, conversation_id, sender, recipient, reply_to, action_type, 'forged', files, created_at, system, '' FROM messages WHERE id = 1`,
			report: "message 200 has no MAC"},
		{name: "re-arm the upgrade's legacy sealing", sql: `INSERT INTO legacy_seal DEFAULT VALUES;
			INSERT INTO messages (id, conversation_id, sender, recipient, reply_to, action_type, body, files, created_at, system, mac)
			SELECT 300, conversation_id, sender, recipient, reply_to, action_type, 'forged', files, created_at, system, '' FROM messages WHERE id = 1;
			INSERT INTO inbox (conversation_id, member_id, message_id, read_at) SELECT conversation_id, 'b', 300, NULL FROM messages WHERE id = 300`,
			report: "the upgrade mark was re-created outside agent-bridge",
			check: func(t *testing.T, r *tamperRig) {
				rep, _ := r.svc.VerifyAudit(ctx, "")
				if !strings.Contains(fmt.Sprint(rep.Problems), "message 300 has no MAC") {
					t.Fatalf("the inserted message was sealed as legacy: %v", rep.Problems)
				}
				in, _ := r.svc.CheckMessages(ctx, r.b, bridge.CheckInput{History: true})
				for _, m := range in.Messages {
					if m.ID == 300 && !m.Altered {
						t.Fatal("the inserted message was delivered as genuine")
					}
				}
			}},
		{name: "revive a member that left", sql: `UPDATE members SET left_at = NULL WHERE member_id = 'c'`, report: "member c was written or changed outside agent-bridge",
			check: func(t *testing.T, r *tamperRig) {
				if _, err := r.svc.Send(ctx, r.c, bridge.SendInput{Message: "back", To: "a"}); bridge.KindOf(err) != bridge.EUnauthorized || !strings.Contains(err.Error(), "outside agent-bridge") {
					t.Fatalf("a revived member authenticated: %v", err)
				}
			}},
		{name: "change a member's role", sql: `UPDATE members SET role = 'admin' WHERE member_id = 'b'`, report: "member b was written",
			check: func(t *testing.T, r *tamperRig) {
				if _, err := r.svc.CheckMessages(ctx, r.b, bridge.CheckInput{}); bridge.KindOf(err) != bridge.EUnauthorized {
					t.Fatalf("an edited member authenticated: %v", err)
				}
			}},
		{name: "insert a member", sql: `INSERT INTO members (conversation_id, member_id, role, generation, status, heartbeat, joined_at, left_at, unread, mac)
			SELECT conversation_id, 'mallory', role, 1, status, heartbeat, joined_at, NULL, 0, mac FROM members WHERE member_id = 'b'`,
			report: "member mallory was written"},
		{name: "reopen a redeemed invite", sql: `UPDATE invites SET redeemed_at = NULL, redeemed_by = '' WHERE redeemed_by = 'c'`, report: "an invite (created"},
		{name: "widen an invite", sql: `UPDATE invites SET role = 'admin' WHERE redeemed_by = ''`, report: "an invite (created",
			check: func(t *testing.T, r *tamperRig) {
				if _, err := r.svc.Join(ctx, r.invite, "d"); bridge.KindOf(err) != bridge.EUnauthorized || !strings.Contains(err.Error(), "outside agent-bridge") {
					t.Fatalf("an edited invite was honoured: %v", err)
				}
			}},
		{name: "edit an audit row", sql: `UPDATE audit SET detail = 'nothing happened' WHERE chain <> '' AND seq = 3`, report: "content does not match its digest"},
		{name: "move an audit row to the global chain", sql: `UPDATE audit SET chain = '', seq = 100 WHERE chain <> '' AND seq = (SELECT max(seq) FROM audit WHERE chain <> '')`, report: "row 100"},
		{name: "insert a conversation", sql: `INSERT INTO conversations (id, role_a, role_b, created_at, expires_at)
			SELECT 'conv_00000000000000ee', role_a, role_b, created_at, expires_at FROM conversations`, report: "conv_00000000000000ee: the conversation was inserted outside agent-bridge"},
		{name: "delete a conversation's chain", sql: `DELETE FROM audit WHERE chain <> ''`, report: "chain is missing"},
		{name: "delete a whole conversation", sql: `DELETE FROM inbox; DELETE FROM invites; DELETE FROM members; DELETE FROM messages; DELETE FROM audit WHERE chain <> ''; DELETE FROM conversations`,
			report: "the conversation was deleted outside agent-bridge"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newTamperRig(t, newDB)
			r.raw(tc.sql)
			rep, err := r.svc.VerifyAudit(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(fmt.Sprint(rep.Problems), tc.report) {
				t.Fatalf("verify does not report %q: %v", tc.report, rep.Problems)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	t.Run("cleanup is not tampering", func(t *testing.T) {
		r := newTamperRig(t, newDB)
		r.raw(`UPDATE conversations SET expires_at = created_at`)
		if _, err := r.svc.Cleanup(ctx); err != nil {
			t.Fatal(err)
		}
		rep, err := r.svc.VerifyAudit(ctx, "")
		if err != nil || !rep.OK() || rep.Removed != 3 {
			t.Fatalf("after cleanup: %+v %v; want intact, 3 audit rows naming removed messages", rep, err)
		}
		// Rows cut from a removed conversation's chain are still caught.
		r.raw(`DELETE FROM audit WHERE chain <> '' AND seq = (SELECT max(seq) FROM audit WHERE chain <> '')`)
		if rep, _ := r.svc.VerifyAudit(ctx, ""); !strings.Contains(fmt.Sprint(rep.Problems), "cleanup removed the conversation") {
			t.Fatalf("a cut chain of a removed conversation: %v", rep.Problems)
		}
	})
}
