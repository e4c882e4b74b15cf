package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// Legacy describes the conversation every store's upgrade test writes with
// the schema from before teams (two fixed sessions, statuses, read_at on
// messages), before opening the store to migrate it:
//
//	conversation LegacyConversation, role_a "backend", role_b "frontend",
//	  created at LegacyT0, expiring in 2100
//	message 1 a->b "one", read at LegacyT0+1m
//	message 2 a->b "two", unread
//	message 3 b->a "three", unread
//	status of a "working", heartbeat LegacyT0+5s; b never reported
//	one endpoint and one silence of session b
const LegacyConversation = "conv_00000000000000f1"

// LegacyT0 is the legacy fixture's creation time.
var LegacyT0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// CheckUpgraded checks a store migrated from the legacy fixture: both
// sessions became members of generation 0 with their roles, status and
// unread counts; read state moved to the inbox; and the tokens derived
// before the upgrade (tokenA, tokenB) still work through svc, a service
// over s with the same key.
func CheckUpgraded(t *testing.T, s bridge.Store, svc *bridge.Service, tokenA, tokenB string) {
	t.Helper()
	conv := LegacyConversation
	view(t, s, func(tx bridge.Tx) error {
		ms, err := tx.Members(conv)
		if err != nil {
			return err
		}
		if len(ms) != 2 || ms[0].Member != "a" || ms[1].Member != "b" {
			t.Fatalf("members after upgrade: %+v", ms)
		}
		a, b := ms[0], ms[1]
		if a.Role != "backend" || b.Role != "frontend" || a.Generation != 0 || b.Generation != 0 || !a.Active() || !b.Active() {
			t.Errorf("seats after upgrade: %+v %+v", a, b)
		}
		if a.Status != "working" || !a.Heartbeat.Equal(LegacyT0.Add(5*time.Second)) || b.Status != bridge.StatusUnknown || !b.Heartbeat.IsZero() {
			t.Errorf("statuses after upgrade: %+v %+v", a, b)
		}
		if a.Unread != 1 || b.Unread != 1 {
			t.Errorf("unread after upgrade: a %d, b %d", a.Unread, b.Unread)
		}
		h, err := tx.History(conv, "b", 0, time.Time{}, 10)
		if err != nil {
			return err
		}
		if len(h) != 2 || h[0].Body != "one" || !h[0].ReadAt.Equal(LegacyT0.Add(time.Minute)) || !h[1].ReadAt.IsZero() || h[0].To != "b" {
			t.Errorf("b's history after upgrade: %+v", h)
		}
		return nil
	})
	ctx := context.Background()
	b := bridge.Caller{ConversationID: conv, Session: "b", Token: tokenB}
	in, err := svc.CheckMessages(ctx, b, bridge.CheckInput{})
	if err != nil {
		t.Fatalf("b's pre-upgrade token: %v", err)
	}
	if len(in.Messages) != 1 || in.Messages[0].Body != "two" || in.Messages[0].Role != "backend" {
		t.Fatalf("b received %+v", in.Messages)
	}
	// a's token identifies a without session_id, and a new message still
	// reaches the partner.
	a := bridge.Caller{ConversationID: conv, Token: tokenA}
	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "after the upgrade"}); err != nil {
		t.Fatalf("a's pre-upgrade token: %v", err)
	}
	in, err = svc.CheckMessages(ctx, b, bridge.CheckInput{})
	if err != nil || len(in.Messages) != 1 || in.Messages[0].Body != "after the upgrade" || in.Messages[0].From != "a" {
		t.Fatalf("b after a's send: %+v %v", in.Messages, err)
	}
	// An upgraded conversation holds tasks and leases (#17).
	if _, err := svc.CreateTask(ctx, a, bridge.NewTask{Title: "after the upgrade", Assignee: "b"}); err != nil {
		t.Fatalf("task in an upgraded conversation: %v", err)
	}
	if _, err := svc.LeasePaths(ctx, b, bridge.LeaseInput{Paths: []string{"src"}, TaskID: 1}); err != nil {
		t.Fatalf("lease in an upgraded conversation: %v", err)
	}
	if page, err := svc.ListTasks(ctx, b, bridge.TaskQuery{Mine: true}); err != nil || len(page.Tasks) != 1 {
		t.Fatalf("b's tasks after the upgrade: %+v %v", page, err)
	}
}
