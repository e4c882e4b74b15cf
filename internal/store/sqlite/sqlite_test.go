package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func open(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func update(t *testing.T, db *sqlite.DB, fn func(bridge.Tx) error) {
	t.Helper()
	if err := db.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func addConversation(t *testing.T, db *sqlite.DB, id string, expires time.Time) {
	update(t, db, func(tx bridge.Tx) error {
		return tx.CreateConversation(bridge.Conversation{ID: id, RoleA: "backend", RoleB: "frontend", CreatedAt: t0, ExpiresAt: expires})
	})
}

func TestFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	path := filepath.Join(dir, "bridge.db")
	db := open(t, path)
	addConversation(t, db, "conv_0000000000000001", t0.Add(time.Hour))
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", filepath.Base(f), fi.Mode().Perm())
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v", fi.Mode().Perm())
	}
}

func TestMigrationsAreVersionedAndRefuseNewer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	db := open(t, path)
	db.Close()
	db = open(t, path) // re-opening an up-to-date database is a no-op
	db.Close()

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	raw.QueryRow("PRAGMA user_version").Scan(&v)
	if v != sqlite.SchemaVersion() {
		t.Fatalf("user_version %d, want %d", v, sqlite.SchemaVersion())
	}
	var mode string
	raw.QueryRow("PRAGMA journal_mode").Scan(&mode)
	if mode != "wal" {
		t.Fatalf("journal mode %q", mode)
	}
	if _, err := raw.Exec(fmt.Sprintf("PRAGMA user_version = %d", sqlite.SchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if _, err := sqlite.Open(context.Background(), path); err == nil || !strings.Contains(err.Error(), "newer than this agent-bridge") {
		t.Fatalf("opened a newer schema: %v", err)
	}
}

// check_messages must stay flat as read messages pile up: the unread
// queries are answered from the partial index, never by walking a
// conversation's whole inbox.
func TestUnreadQueryUsesPartialIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	open(t, path)
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{
		`UPDATE inbox INDEXED BY inbox_unread SET read_at = 1 WHERE conversation_id = 'x' AND member_id = 'a' AND read_at IS NULL AND message_id <= 10`,
		`SELECT m.id FROM inbox i INDEXED BY inbox_unread JOIN messages m ON m.id = i.message_id
			WHERE i.conversation_id = 'x' AND i.member_id = 'a' AND i.read_at IS NULL ORDER BY i.message_id LIMIT 100`,
	} {
		rows, err := raw.Query(`EXPLAIN QUERY PLAN ` + q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, "USING INDEX inbox_unread (conversation_id=? AND member_id=?") {
			t.Fatalf("unread query plan does not search inbox_unread by member: %s", p)
		}
	}
}

// The shared store behaviour, on SQLite.
func TestStoreBehaviour(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func(t *testing.T) bridge.Store {
		path := filepath.Join(t.TempDir(), "bridge.db")
		return func(t *testing.T) bridge.Store { return open(t, path) }
	})
}
