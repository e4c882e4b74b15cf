package bridge_test

import (
	"context"
	"strings"
	"testing"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// PostgreSQL cannot store NUL in text; both stores refuse it the same way,
// with a reason, before anything is written.
func TestNULIsRefusedEverywhereTextEnters(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil)
	if _, err := svc.CreateConversation(ctx, "back\x00end", "frontend"); bridge.KindOf(err) != bridge.EInvalid || !strings.Contains(err.Error(), "my_role contains a NUL") {
		t.Fatalf("role with NUL: %v", err)
	}
	c, err := svc.CreateConversation(ctx, "backend", "frontend")
	if err != nil {
		t.Fatal(err)
	}
	a := bridge.Caller{ConversationID: c.Conversation.ID, Session: "a", Token: c.TokenA}
	for name, in := range map[string]bridge.SendInput{
		"message": {Message: "hello\x00world"},
		"files":   {Message: "hello", Files: []string{"a.go", "b\x00.go"}},
	} {
		if _, err := svc.Send(ctx, a, in); bridge.KindOf(err) != bridge.EInvalid || !strings.Contains(err.Error(), "NUL") {
			t.Fatalf("%s with NUL: %v", name, err)
		}
	}
	b := bridge.Caller{ConversationID: c.Conversation.ID, Session: "b", Token: c.TokenB}
	if in, err := svc.CheckMessages(ctx, b, bridge.CheckInput{}); err != nil || len(in.Messages) != 0 {
		t.Fatalf("a refused send left a message: %+v %v", in.Messages, err)
	}
}

func TestQuantity(t *testing.T) {
	for n, want := range map[int]string{0: "0 leases", 1: "1 lease", 2: "2 leases"} {
		if got := bridge.Quantity(n, "lease"); got != want {
			t.Errorf("Quantity(%d) = %q, want %q", n, got, want)
		}
	}
}
