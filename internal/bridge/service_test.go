package bridge_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/limit"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

func newService(t *testing.T, tune func(*bridge.Config)) (*bridge.Service, *time.Time) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	cfg := bridge.DefaultConfig()
	cfg.Now = func() time.Time { return now }
	if tune != nil {
		tune(&cfg)
	}
	var key token.Key
	key[0] = 7
	svc := bridge.NewService(db, key, nil, cfg, nil)
	t.Cleanup(func() { svc.Close() }) // before the database closes
	return svc, &now
}

func TestRateLimitNamesWindowAndRetryTime(t *testing.T) {
	ctx := context.Background()
	svc, now := newService(t, func(c *bridge.Config) {
		c.SessionLimits = []limit.Window{{Max: 2, Period: time.Minute}, {Max: 3, Period: time.Hour}}
	})
	c, err := svc.CreateConversation(ctx, "backend", "frontend")
	if err != nil {
		t.Fatal(err)
	}
	a := bridge.Caller{ConversationID: c.Conversation.ID, Session: "a", Token: c.TokenA}
	for i := 0; i < 2; i++ {
		if _, err := svc.CheckMessages(ctx, a, bridge.CheckInput{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = svc.CheckMessages(ctx, a, bridge.CheckInput{})
	var be *bridge.Error
	if bridge.KindOf(err) != bridge.ERateLimited || !strings.Contains(bridge.MessageOf(err), "2 requests per minute") {
		t.Fatalf("third call in a minute: %v", err)
	}
	if ok := asError(err, &be); !ok || be.RetryAfter != time.Minute {
		t.Fatalf("retry after %v", be)
	}
	*now = now.Add(time.Minute)
	if _, err := svc.CheckMessages(ctx, a, bridge.CheckInput{}); err != nil {
		t.Fatalf("after the minute: %v", err)
	}
	*now = now.Add(time.Minute)
	_, err = svc.CheckMessages(ctx, a, bridge.CheckInput{})
	if !strings.Contains(bridge.MessageOf(err), "3 requests per hour") {
		t.Fatalf("fourth call in the hour: %v", err)
	}
}

func asError(err error, target **bridge.Error) bool {
	e, ok := err.(*bridge.Error)
	*target = e
	return ok
}

func TestCreateLimitAcrossStore(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, func(c *bridge.Config) { c.CreateLimits = []limit.Window{{Max: 2, Period: time.Hour}} })
	for i := 0; i < 2; i++ {
		if _, err := svc.CreateConversation(ctx, "backend", "frontend"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := svc.CreateConversation(ctx, "backend", "frontend")
	if bridge.KindOf(err) != bridge.ERateLimited {
		t.Fatalf("third create: %v", err)
	}
	list, _ := svc.List(ctx)
	if len(list) != 2 {
		t.Fatalf("%d conversations", len(list))
	}
}

// Every call leaves one audit row, accepted or refused, and the chain
// verifies; refusals record the error kind and never the token.
func TestAuditRecordsEveryCall(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil)
	c, _ := svc.CreateConversation(ctx, "backend", "frontend")
	a := bridge.Caller{ConversationID: c.Conversation.ID, Session: "a", Token: c.TokenA}
	bad := a
	bad.Token = c.TokenB
	svc.Send(ctx, a, bridge.SendInput{Message: "the password is hunter2"})
	svc.Send(ctx, bad, bridge.SendInput{Message: "hi"})
	svc.UpdateStatus(ctx, a, "sleeping")
	rows, err := svc.Audit(ctx, bridge.AuditFilter{})
	if err != nil || len(rows) != 5 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	id := c.Conversation.ID
	want := []struct {
		chain         string
		seq           int64
		tool, outcome string
		kind          bridge.ErrorKind
	}{
		{"", 1, "create_conversation", "ok", ""}, // the global chain records the creation
		{id, 1, "create_conversation", "ok", ""}, // and the conversation's chain opens
		{id, 2, "send_to_partner", "ok", ""},
		{id, 3, "send_to_partner", "refused", bridge.EUnauthorized},
		{id, 4, "update_my_status", "refused", bridge.EInvalid},
	}
	for i, w := range want {
		r := rows[i]
		if r.Chain != w.chain || r.Tool != w.tool || r.Outcome != w.outcome || r.ErrorKind != w.kind || r.Seq != w.seq {
			t.Errorf("row %d: %+v, want %+v", i, r, w)
		}
		for _, secret := range []string{c.TokenA, c.TokenB, "hunter2"} {
			if strings.Contains(r.Detail, secret) {
				t.Errorf("row %d detail leaks a secret: %q", i, r.Detail)
			}
		}
	}
	if rows[0].ConversationID != id || rows[0].Refs != "new:"+id || rows[3].Session != "a" {
		t.Errorf("rows do not name the conversation and session: %+v", rows)
	}
	if rows[2].Refs != "m:1" {
		t.Errorf("the send's row names %q, want the message it stored", rows[2].Refs)
	}
	rep, err := svc.VerifyAudit(ctx, "")
	if err != nil || !rep.OK() || rep.Checked != 5 || rep.Chains != 2 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	if err := svc.SealHead(ctx, &rep); err != nil || rep.HeadSeq != 2 {
		t.Fatalf("the head seals the global chain's row 2: %+v %v", rep, err)
	}
}

func TestTokensAreAudited(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil)
	c, _ := svc.CreateConversation(ctx, "backend", "frontend")
	a, b, err := svc.Tokens(ctx, c.Conversation.ID)
	if err != nil || a != c.TokenA || b != c.TokenB {
		t.Fatalf("tokens %v", err)
	}
	if _, _, err := svc.Tokens(ctx, "conv_ffffffffffffffff"); !bridge.IsNotFound(err) {
		t.Fatalf("unknown conversation: %v", err)
	}
	rows, _ := svc.Audit(ctx, bridge.AuditFilter{Limit: 2})
	if rows[0].Tool != "cli:tokens" || rows[0].Outcome != "ok" || rows[1].ErrorKind != bridge.ENotFound {
		t.Fatalf("rows %+v", rows)
	}
}

// A refusal naming a conversation that does not exist goes to the global
// chain, and never opens a chain of its own.
func TestRefusalOfUnknownConversationGoesToTheGlobalChain(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil)
	ghost := bridge.Caller{ConversationID: "conv_ffffffffffffffff", Session: "a", Token: strings.Repeat("0", 64)}
	if _, err := svc.Send(ctx, ghost, bridge.SendInput{Message: "hi"}); bridge.KindOf(err) != bridge.EUnauthorized {
		t.Fatalf("send to a ghost: %v", err)
	}
	rows, _ := svc.Audit(ctx, bridge.AuditFilter{})
	if len(rows) != 1 || rows[0].Chain != "" || rows[0].ConversationID != ghost.ConversationID || rows[0].Outcome != bridge.OutcomeRefused {
		t.Fatalf("rows %+v", rows)
	}
	if rep, err := svc.VerifyAudit(ctx, ""); err != nil || !rep.OK() || rep.Chains != 1 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}
