package bridge_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/limit"
)

// One agent creating conversations in a loop is limited on its own; the
// others keep creating until the store-wide ceiling.
func TestCreationIsLimitedPerOrigin(t *testing.T) {
	svc, _ := newService(t, func(c *bridge.Config) {
		c.CreatorLimits = []limit.Window{{Max: 2, Period: time.Hour}}
		c.CreateLimits = []limit.Window{{Max: 3, Period: time.Hour}}
	})
	greedy := bridge.WithOrigin(context.Background(), "this agent's server process 11")
	other := bridge.WithOrigin(context.Background(), "this agent's server process 22")
	for i := 0; i < 2; i++ {
		if _, err := svc.CreateConversation(greedy, "backend", "frontend"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := svc.CreateConversation(greedy, "backend", "frontend")
	if bridge.KindOf(err) != bridge.ERateLimited || !strings.Contains(err.Error(), "process 11") {
		t.Fatalf("the greedy origin's third create: %v", err)
	}
	if _, err := svc.CreateConversation(other, "backend", "frontend"); err != nil {
		t.Fatalf("another origin is locked out too: %v", err)
	}
	_, err = svc.CreateConversation(bridge.WithOrigin(context.Background(), "host 10.0.0.7"), "backend", "frontend")
	if bridge.KindOf(err) != bridge.ERateLimited || !strings.Contains(err.Error(), "every agent together") {
		t.Fatalf("past the store-wide ceiling: %v", err)
	}
}
