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
