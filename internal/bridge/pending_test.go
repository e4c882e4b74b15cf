package bridge_test

import (
	"context"
	"testing"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// Pending names each member by its own role, and forgets a member that
// left: its inbox is no longer its agent's business, so a hook must not
// keep telling that agent to read it.
func TestPendingRolesAndLeftMembers(t *testing.T) {
	svc, _, _ := spyServices(t, "/work/project")
	p := newPair(t, svc)
	ctx := context.Background()
	if _, err := svc.Send(ctx, p.a, bridge.SendInput{Message: "for b"}); err != nil {
		t.Fatal(err)
	}
	q := bridge.PendingQuery{ConversationID: p.b.ConversationID, Session: "b"}
	ps, err := svc.Pending(ctx, q)
	if err != nil || len(ps) != 1 || ps[0].Unread != 1 || ps[0].Role != "frontend" {
		t.Fatalf("Pending = %+v, %v; want b with role frontend and 1 unread", ps, err)
	}
	if _, err := svc.Leave(ctx, p.b, ""); err != nil {
		t.Fatal(err)
	}
	if ps, err := svc.Pending(ctx, q); err != nil || len(ps) != 0 {
		t.Fatalf("after b left, Pending = %+v, %v; want nothing", ps, err)
	}
}
