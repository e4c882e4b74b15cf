package bridge_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// An export is text from outside: importing one redacts it and refuses what
// the tools would refuse, storing nothing.
func TestImportRedactsAndValidates(t *testing.T) {
	ctx := context.Background()
	svc, now := newService(t, nil)
	secret := "ghp_Zx8vQ2mN4kL7pR9sT1uW3yA5bC6dE8fG0hJ2"
	snap := func() bridge.Snapshot {
		return bridge.Snapshot{
			Conversation: bridge.Conversation{ID: "conv_00000000000000aa", RoleA: "backend", RoleB: "frontend " + secret,
				CreatedAt: *now, ExpiresAt: now.Add(time.Hour)},
			Members: []bridge.Membership{{Member: "a", Role: "backend", JoinedAt: *now}, {Member: "b", Role: "frontend " + secret, JoinedAt: *now}},
			Messages: []bridge.Message{{ID: 1, From: "a", To: "b", ActionType: "info", Body: "token " + secret + " here",
				Files: []string{"notes/" + secret}, CreatedAt: *now}},
		}
	}
	conv, err := svc.Import(ctx, snap(), false)
	if err != nil {
		t.Fatal(err)
	}
	d, err := svc.Show(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range d.Members {
		if strings.Contains(m.Role, secret) {
			t.Fatalf("member %s's role kept the secret: %q", m.Member, m.Role)
		}
	}
	if strings.Contains(d.Conversation.RoleB, secret) || len(d.All) != 1 || strings.Contains(d.All[0].Body, secret) ||
		strings.Contains(d.All[0].Files[0], secret) || !strings.Contains(d.All[0].Body, "[REDACTED:") {
		t.Fatalf("imported text kept the secret: %q %+v", d.Conversation.RoleB, d.All)
	}
	// An import is a creation: the global chain records it, the new
	// chain's row names every imported message (also under a new id).
	again, err := svc.Import(ctx, snap(), true)
	if err != nil || again.ID == conv.ID {
		t.Fatalf("import under a new id: %v", err)
	}
	if rep, err := svc.VerifyAudit(ctx, ""); err != nil || !rep.OK() || rep.Chains != 3 {
		t.Fatalf("verify after imports: %+v %v", rep, err)
	}
	for name, spoil := range map[string]func(*bridge.Snapshot){
		"NUL in a message":    func(s *bridge.Snapshot) { s.Messages[0].Body = "a\x00b" },
		"unknown action type": func(s *bridge.Snapshot) { s.Messages[0].ActionType = "shout" },
		"empty role":          func(s *bridge.Snapshot) { s.Conversation.RoleA = "" },
		"expires before made": func(s *bridge.Snapshot) { s.Conversation.ExpiresAt = s.Conversation.CreatedAt.Add(-time.Hour) },
	} {
		s := snap()
		s.Conversation.ID = "conv_00000000000000bb"
		spoil(&s)
		if _, err := svc.Import(ctx, s, false); bridge.KindOf(err) != bridge.EInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
		if _, err := svc.Show(ctx, s.Conversation.ID); !bridge.IsNotFound(err) {
			t.Errorf("%s: a refused import left the conversation behind", name)
		}
	}
}
