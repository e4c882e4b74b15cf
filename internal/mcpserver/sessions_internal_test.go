package mcpserver

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// What checking a session id costs each request: the MAC alone (ends on
// this node only), and the MAC plus the store read that makes a DELETE
// on any node hold (SQLite here), for a live id and for an ended one (a
// cache hit).
func BenchmarkSessionValidate(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc := bridge.NewService(db, token.Key{1}, nil, bridge.DefaultConfig(), nil)
	key := []byte("0123456789abcdef0123456789abcdef")
	for _, bc := range []struct {
		name  string
		ends  SessionEnds
		ended bool
	}{
		{"node-only", nil, false},
		{"shared-live", svc, false},
		{"shared-ended", svc, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ids := newSessionIDs(key, bc.ends)
			id := ids.Generate()
			if bc.ended {
				if _, err := ids.terminate(ctx, id, true); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				ended, err := ids.validate(ctx, id)
				if err != nil || ended != bc.ended {
					b.Fatalf("validate: %v %v", ended, err)
				}
			}
		})
	}
}
