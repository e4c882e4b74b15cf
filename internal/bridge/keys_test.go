package bridge_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

func TestCheckKey(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var k1, k2 token.Key
	k1[0], k2[0] = 1, 2
	svc := bridge.NewService(db, k1, nil, bridge.DefaultConfig(), nil)
	if err := svc.CheckKey(ctx); err != nil {
		t.Fatalf("an empty database matches any key: %v", err)
	}
	if _, err := svc.CreateConversation(ctx, "backend", "frontend"); err != nil {
		t.Fatal(err)
	}
	if err := svc.CheckKey(ctx); err != nil {
		t.Fatalf("the key that wrote the trail: %v", err)
	}
	other := bridge.NewService(db, k2, nil, bridge.DefaultConfig(), nil)
	if err := other.CheckKey(ctx); !errors.Is(err, bridge.ErrKeyMismatch) {
		t.Fatalf("another key: %v, want ErrKeyMismatch", err)
	}
}
