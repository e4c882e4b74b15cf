package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
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

// Two handles stand for two processes: every message is taken exactly once.
func TestTakeUnreadExactlyOnceAcrossHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	h1, h2 := open(t, path), open(t, path)
	const conv, n = "conv_00000000000000aa", 300
	addConversation(t, h1, conv, t0.Add(time.Hour))
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := map[int64]int{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			update(t, h1, func(tx bridge.Tx) error {
				return tx.AddMessage(&bridge.Message{ConversationID: conv, From: "a", ActionType: "info", Body: fmt.Sprint(i), CreatedAt: t0})
			})
		}
	}()
	for g := 0; g < 6; g++ {
		db := []*sqlite.DB{h1, h2}[g%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
				var got []bridge.Message
				update(t, db, func(tx bridge.Tx) (err error) {
					got, err = tx.TakeUnread(conv, "b", t0)
					return err
				})
				mu.Lock()
				for i, m := range got {
					taken[m.ID]++
					if i > 0 && m.ID <= got[i-1].ID {
						t.Errorf("not oldest first: %d after %d", m.ID, got[i-1].ID)
					}
				}
				done := len(taken) == n
				mu.Unlock()
				if done {
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(taken) != n {
		t.Fatalf("%d of %d messages taken", len(taken), n)
	}
	for id, c := range taken {
		if c != 1 {
			t.Fatalf("message %d taken %d times", id, c)
		}
	}
	update(t, h2, func(tx bridge.Tx) error {
		got, err := tx.TakeUnread(conv, "a", t0)
		if len(got) != 0 {
			t.Errorf("the sender received its own messages")
		}
		return err
	})
}

// check_messages must stay flat as read messages pile up: the unread query
// is answered from the partial index, never by scanning the table.
func TestUnreadQueryUsesPartialIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	open(t, path)
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`EXPLAIN QUERY PLAN UPDATE messages SET read_at = 1 WHERE conversation_id = 'x' AND sender = 'a' AND read_at IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		rows.Scan(&id, &parent, &notused, &detail)
		plan = append(plan, detail)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "messages_unread") {
		t.Fatalf("unread query plan does not use messages_unread: %s", p)
	}
}

func TestDeleteExpiredKeepsAudit(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "b.db"))
	old, live := "conv_000000000000000e", "conv_000000000000000f"
	addConversation(t, db, old, t0.Add(time.Minute))
	addConversation(t, db, live, t0.Add(time.Hour))
	update(t, db, func(tx bridge.Tx) error {
		for _, c := range []string{old, live} {
			if err := tx.AddMessage(&bridge.Message{ConversationID: c, From: "a", ActionType: "info", Body: "x", CreatedAt: t0}); err != nil {
				return err
			}
			if err := tx.SetState(c, "b", "working", t0); err != nil {
				return err
			}
			if err := tx.AddRequest(c+"/a", t0, t0.Add(-time.Hour)); err != nil {
				return err
			}
		}
		return tx.AppendAudit(bridge.AuditEntry{Seq: 1, At: t0, Tool: "send_to_partner", ConversationID: old, Outcome: "ok", PrevDigest: "p", Digest: "d"})
	})
	var got bridge.Cleanup
	update(t, db, func(tx bridge.Tx) (err error) {
		got, err = tx.DeleteExpired(t0.Add(2 * time.Minute))
		return err
	})
	if got != (bridge.Cleanup{Conversations: 1, Messages: 1, Statuses: 1}) {
		t.Fatalf("cleanup %+v", got)
	}
	db.View(context.Background(), func(tx bridge.Tx) error {
		if _, err := tx.Conversation(old); !bridge.IsNotFound(err) {
			t.Errorf("expired conversation still there: %v", err)
		}
		if msgs, _ := tx.Messages(live); len(msgs) != 1 {
			t.Errorf("live conversation lost messages")
		}
		if ts, _ := tx.RequestTimes(old+"/a", t0.Add(-time.Hour)); len(ts) != 0 {
			t.Errorf("rate events of a removed conversation kept")
		}
		if rows, _ := tx.Audit(bridge.AuditFilter{}); len(rows) != 1 {
			t.Errorf("audit rows: %d", len(rows))
		}
		return nil
	})
}

func TestAuditLimitKeepsNewestInOrder(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "b.db"))
	update(t, db, func(tx bridge.Tx) error {
		for i := int64(1); i <= 5; i++ {
			if err := tx.AppendAudit(bridge.AuditEntry{Seq: i, At: t0, Tool: "t", Outcome: "ok", PrevDigest: "p", Digest: fmt.Sprint(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	db.View(context.Background(), func(tx bridge.Tx) error {
		rows, err := tx.Audit(bridge.AuditFilter{Limit: 2})
		if err != nil || len(rows) != 2 || rows[0].Seq != 4 || rows[1].Seq != 5 {
			t.Errorf("last 2 rows: %+v %v", rows, err)
		}
		seq, digest, _ := tx.LastAudit()
		if seq != 5 || digest != "5" {
			t.Errorf("head %d %s", seq, digest)
		}
		return nil
	})
}

func TestViewIsReadOnly(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "b.db"))
	err := db.View(context.Background(), func(tx bridge.Tx) error {
		return tx.CreateConversation(bridge.Conversation{ID: "conv_0000000000000009", CreatedAt: t0, ExpiresAt: t0})
	})
	if err == nil {
		t.Fatal("a write succeeded in a read-only transaction")
	}
}
