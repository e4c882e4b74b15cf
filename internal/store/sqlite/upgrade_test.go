package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/store/storetest"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// A database of schema 4 (two fixed sessions) upgrades in place to teams,
// and the tokens issued before keep working.
func TestUpgradeFromSchema4(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	for i, step := range sqlite.Migrations()[:4] {
		if _, err := raw.Exec(step); err != nil {
			t.Fatalf("schema step %d: %v", i+1, err)
		}
	}
	t0 := storetest.LegacyT0.UnixMilli()
	conv := storetest.LegacyConversation
	for _, q := range []string{
		`PRAGMA user_version = 4`,
		fmt.Sprintf(`INSERT INTO conversations VALUES ('%s', 'backend', 'frontend', %d, %d)`, conv, t0, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()),
		fmt.Sprintf(`INSERT INTO messages (id, conversation_id, sender, action_type, body, files, created_at, read_at, system) VALUES
			(1, '%[1]s', 'a', 'info', 'one', '[]', %[2]d, %[3]d, 0),
			(2, '%[1]s', 'a', 'question', 'two', '[]', %[2]d + 1, NULL, 0),
			(3, '%[1]s', 'b', 'info', 'three', '[]', %[2]d + 2, NULL, 0)`, conv, t0, t0+60000),
		fmt.Sprintf(`INSERT INTO statuses VALUES ('%s', 'a', 'working', %d)`, conv, t0+5000),
		fmt.Sprintf(`INSERT INTO endpoints VALUES ('/w', '%s', 'b', %d)`, conv, t0),
		fmt.Sprintf(`INSERT INTO silences VALUES ('%s', 'b', %d, %d, NULL)`, conv, t0, t0),
		fmt.Sprintf(`INSERT INTO approvals VALUES ('appr_00000000000000e1', 'enable', '%s', 'a', 'safe', '/w', 1000, 1, '', '', '', 'o', 'pending', '', '', %d, NULL, NULL, %d)`, conv, t0, t0+60000),
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	var key token.Key
	key[0] = 9
	db := open(t, path)
	svc := bridge.NewService(db, key, nil, bridge.DefaultConfig(), nil)
	storetest.CheckUpgraded(t, db, svc, key.Derive(conv, "a"), key.Derive(conv, "b"))
	var endpoints, silences, approvals int
	check, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	check.QueryRow(`SELECT (SELECT count(*) FROM endpoints), (SELECT count(*) FROM silences), (SELECT count(*) FROM approvals)`).Scan(&endpoints, &silences, &approvals)
	if endpoints != 1 || silences != 1 || approvals != 1 {
		t.Fatalf("rebuilt tables lost rows: %d endpoints, %d silences, %d approvals", endpoints, silences, approvals)
	}
	var fk string
	if err := check.QueryRow(`PRAGMA foreign_key_check`).Scan(&fk); err != sql.ErrNoRows {
		t.Fatalf("foreign key check after the upgrade: %q %v", fk, err)
	}
}

// A database of the schema before audit chains and row MACs, with the
// rows and the audit trail agent-bridge wrote, upgrades in place: the old
// trail is the global chain's prefix and verifies against the head kept
// before, and the old rows are sealed once.
func TestUpgradeToChains(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	before := len(sqlite.Migrations()) - 1 // the last step is the chains'
	for i, step := range sqlite.Migrations()[:before] {
		if _, err := raw.Exec(step); err != nil {
			t.Fatalf("schema step %d: %v", i+1, err)
		}
	}
	var key token.Key
	key[0] = 9
	t0 := storetest.LegacyT0.UnixMilli()
	conv := storetest.LegacyConversation
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(fmt.Sprintf(`PRAGMA user_version = %d`, before))
	exec(`INSERT INTO conversations VALUES (?, 'backend', 'frontend', ?, ?)`, conv, t0, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	exec(`INSERT INTO members (conversation_id, member_id, role, generation, status, heartbeat, joined_at, left_at, unread) VALUES
		(?1, 'a', 'backend', 0, 'working', ?2, ?2, NULL, 1), (?1, 'b', 'frontend', 0, 'unknown', NULL, ?2, NULL, 1)`, conv, t0)
	exec(`INSERT INTO messages (id, conversation_id, sender, recipient, reply_to, action_type, body, files, created_at, system) VALUES
		(1, ?1, 'a', 'b', NULL, 'info', 'one', '[]', ?2, 0), (2, ?1, 'a', 'b', NULL, 'question', 'two', '[]', ?2 + 1, 0),
		(3, ?1, 'b', 'a', NULL, 'info', 'three', '[]', ?2 + 2, 0)`, conv, t0)
	exec(`INSERT INTO inbox (conversation_id, member_id, message_id, read_at) VALUES (?1, 'b', 1, ?2), (?1, 'b', 2, NULL), (?1, 'a', 3, NULL)`, conv, t0+60000)
	exec(`INSERT INTO invites (code_hash, conversation_id, member_id, role, created_by, created_at, expires_at, redeemed_at, redeemed_by)
		VALUES ('legacy-invite', ?, '', 'reviewer', 'a', ?, ?, NULL, '')`, conv, t0, t0+1800000)
	rows, head := storetest.LegacyAudit(key)
	for _, e := range rows {
		exec(`INSERT INTO audit (seq, at, tool, conversation_id, session, outcome, error_kind, detail, prev_digest, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, e.At.UnixMilli(), e.Tool, e.ConversationID, e.Session, e.Outcome, string(e.ErrorKind), e.Detail, e.PrevDigest, e.Digest)
	}
	db := open(t, path)
	cfg := bridge.DefaultConfig()
	cfg.Now = func() time.Time { return storetest.LegacyT0.Add(time.Hour) }
	svc := bridge.NewService(db, key, nil, cfg, nil)
	if err := svc.CheckKey(context.Background()); err != nil {
		t.Fatalf("the key check on the legacy trail: %v", err)
	}
	storetest.CheckChainsUpgraded(t, svc, key, head, func(q string) { exec(q) })
}
