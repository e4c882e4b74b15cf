package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
)

// A database file deleted or replaced under a running server must not keep
// acknowledging writes into a file no other process can see.
func TestDeletedOrReplacedFileIsRefused(t *testing.T) {
	replace := func(t *testing.T, path string) {
		other := filepath.Join(filepath.Dir(path), "other.db")
		o := open(t, other)
		o.Close()
		if err := os.Rename(other, path); err != nil {
			t.Fatal(err)
		}
	}
	for name, lose := range map[string]func(*testing.T, string){
		"deleted":  func(t *testing.T, path string) { os.Remove(path) },
		"replaced": replace,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bridge.db")
			db := open(t, path)
			addConversation(t, db, "conv_0000000000000001", t0.Add(time.Hour))
			lose(t, path)

			err := db.Update(context.Background(), func(tx bridge.Tx) error {
				return tx.CreateConversation(bridge.Conversation{ID: "conv_0000000000000002", RoleA: "backend", RoleB: "frontend", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
			})
			if !errors.Is(err, sqlite.ErrFileGone) {
				t.Fatalf("write after the file was %s: %v, want ErrFileGone", name, err)
			}
			if bridge.KindOf(err) != bridge.EInternal || bridge.MessageOf(err) == bridge.InternalMessage {
				t.Errorf("the caller should be told what happened: kind %s, %q", bridge.KindOf(err), bridge.MessageOf(err))
			}
			err = db.View(context.Background(), func(tx bridge.Tx) error { _, err := tx.Conversations(); return err })
			if !errors.Is(err, sqlite.ErrFileGone) {
				t.Fatalf("read after the file was %s: %v, want ErrFileGone", name, err)
			}
		})
	}
}
