package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/postgres"
	"github.com/agent-bridge/agent-bridge/internal/store/storetest"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// A database of schema 2 (two fixed sessions) upgrades in place to teams,
// and the tokens issued before keep working.
func TestUpgradeFromSchema2(t *testing.T) {
	dsn := newDatabase(t)
	c := connect(t, dsn)
	ctx := context.Background()
	for i, step := range postgres.Migrations()[:2] {
		if _, err := c.Exec(ctx, step); err != nil {
			t.Fatalf("schema step %d: %v", i+1, err)
		}
	}
	t0 := storetest.LegacyT0
	conv := storetest.LegacyConversation
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`CREATE TABLE agent_bridge_schema (one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)`, nil},
		{`INSERT INTO agent_bridge_schema (version) VALUES (2)`, nil},
		{`INSERT INTO conversations VALUES ($1, 'backend', 'frontend', $2, $3)`, []any{conv, t0, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{`INSERT INTO messages (id, conversation_id, sender, action_type, body, files, created_at, read_at, system) VALUES
			(1, $1, 'a', 'info', 'one', '{}', $2, $3, false),
			(2, $1, 'a', 'question', 'two', '{}', $2, NULL, false),
			(3, $1, 'b', 'info', 'three', '{}', $2, NULL, false)`, []any{conv, t0, t0.Add(time.Minute)}},
		{`INSERT INTO statuses VALUES ($1, 'a', 'working', $2)`, []any{conv, t0.Add(5 * time.Second)}},
		{`INSERT INTO endpoints VALUES ('/w', $1, 'b', $2)`, []any{conv, t0}},
		{`INSERT INTO silences VALUES ($1, 'b', $2, $2, NULL)`, []any{conv, t0}},
	} {
		if _, err := c.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	var key token.Key
	key[0] = 9
	db := open(t, dsn)
	svc := bridge.NewService(db, key, nil, bridge.DefaultConfig(), nil)
	storetest.CheckUpgraded(t, db, svc, key.Derive(conv, "a"), key.Derive(conv, "b"))
	var endpoints, silences int
	if err := c.QueryRow(ctx, `SELECT (SELECT count(*) FROM endpoints), (SELECT count(*) FROM silences)`).Scan(&endpoints, &silences); err != nil {
		t.Fatal(err)
	}
	if endpoints != 1 || silences != 1 {
		t.Fatalf("upgrade lost rows: %d endpoints, %d silences", endpoints, silences)
	}
	// Member ids other than a and b are accepted everywhere now.
	if _, err := c.Exec(ctx, `INSERT INTO endpoints VALUES ('/w', $1, 'worker-1', $2)`, conv, t0); err != nil {
		t.Fatalf("a member id beyond a and b: %v", err)
	}
}

// A database of the schema before audit chains and row MACs, with the
// rows and the audit trail agent-bridge wrote, upgrades in place: the old
// trail is the global chain's prefix and verifies against the head kept
// before, message ids continue after the old ones, and the old rows are
// sealed once.
func TestUpgradeToChains(t *testing.T) {
	dsn := newDatabase(t)
	c := connect(t, dsn)
	ctx := context.Background()
	before := len(postgres.Migrations()) - 1 // the last step is the chains'
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := c.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, step := range postgres.Migrations()[:before] {
		exec(step)
	}
	var key token.Key
	key[0] = 9
	t0 := storetest.LegacyT0
	conv := storetest.LegacyConversation
	exec(`CREATE TABLE agent_bridge_schema (one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)`)
	exec(`INSERT INTO agent_bridge_schema (version) VALUES ($1)`, before)
	exec(`INSERT INTO conversations VALUES ($1, 'backend', 'frontend', $2, $3)`, conv, t0, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	exec(`INSERT INTO members (conversation_id, member_id, role, generation, status, heartbeat, joined_at, left_at, unread) VALUES
		($1, 'a', 'backend', 0, 'working', $2, $2, NULL, 1), ($1, 'b', 'frontend', 0, 'unknown', NULL, $2, NULL, 1)`, conv, t0)
	exec(`INSERT INTO messages (id, conversation_id, sender, recipient, reply_to, action_type, body, files, created_at, system) VALUES
		(1, $1, 'a', 'b', NULL, 'info', 'one', '{}', $2, false), (2, $1, 'a', 'b', NULL, 'question', 'two', '{}', $3, false),
		(3, $1, 'b', 'a', NULL, 'info', 'three', '{}', $4, false)`, conv, t0, t0.Add(time.Millisecond), t0.Add(2*time.Millisecond))
	exec(`INSERT INTO inbox (conversation_id, member_id, message_id, read_at) VALUES ($1, 'b', 1, $2), ($1, 'b', 2, NULL), ($1, 'a', 3, NULL)`, conv, t0.Add(time.Minute))
	exec(`INSERT INTO invites (code_hash, conversation_id, member_id, role, created_by, created_at, expires_at, redeemed_at, redeemed_by)
		VALUES ('legacy-invite', $1, '', 'reviewer', 'a', $2, $3, NULL, '')`, conv, t0, t0.Add(30*time.Minute))
	rows, head := storetest.LegacyAudit(key)
	for _, e := range rows {
		exec(`INSERT INTO audit (seq, at, tool, conversation_id, session, outcome, error_kind, detail, prev_digest, digest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			e.Seq, e.At, e.Tool, e.ConversationID, e.Session, e.Outcome, string(e.ErrorKind), e.Detail, e.PrevDigest, e.Digest)
	}
	db := open(t, dsn)
	cfg := bridge.DefaultConfig()
	cfg.Now = func() time.Time { return t0.Add(time.Hour) }
	svc := bridge.NewService(db, key, nil, cfg, nil)
	if err := svc.CheckKey(ctx); err != nil {
		t.Fatalf("the key check on the legacy trail: %v", err)
	}
	storetest.CheckChainsUpgraded(t, svc, key, head, func(q string) { exec(q) })
	var maxID int64
	if err := c.QueryRow(ctx, `SELECT max(id) FROM messages`).Scan(&maxID); err != nil || maxID != 4 {
		t.Fatalf("the first message after the upgrade got id %d (%v), want 4", maxID, err)
	}
}
