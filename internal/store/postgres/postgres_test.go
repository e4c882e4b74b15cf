package postgres_test

// These tests need a PostgreSQL server: AGENT_BRIDGE_TEST_POSTGRES holds the
// URL of a database whose role may create databases; each test works in a
// fresh database of its own and drops it afterwards. Without the variable
// they skip, except under CI=true, where they fail.
//
//	AGENT_BRIDGE_TEST_POSTGRES=$(.ci/postgres start) go test -race ./internal/store/postgres
//	.ci/postgres stop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/redact"
	"github.com/agent-bridge/agent-bridge/internal/store/postgres"
	"github.com/agent-bridge/agent-bridge/internal/store/storetest"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

const envURL = "AGENT_BRIDGE_TEST_POSTGRES"

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// serverURL returns the test server's URL, or skips (fails under CI).
func serverURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		msg := envURL + " is unset, so the PostgreSQL store tests cannot run. Start a throwaway server and point the tests at it: " +
			envURL + "=$(.ci/postgres start) go test ./internal/store/postgres (stop it with .ci/postgres stop)"
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: " + msg)
		}
		t.Skip(msg)
	}
	return u
}

// newDatabase creates an empty database for one test, dropped when the test
// ends, and returns its URL.
func newDatabase(t testing.TB) string {
	t.Helper()
	base := serverURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s does not parse: %v", envURL, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "agent_bridge_test_" + hex.EncodeToString(b)
	admin := connect(t, base)
	if _, err := admin.Exec(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create a test database (the role in %s needs CREATEDB): %v", envURL, err)
	}
	t.Cleanup(func() {
		// Registered before any handle opens, so it runs after they close.
		if _, err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// connect opens a plain connection, closed when the test ends.
func connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func open(t testing.TB, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func update(t testing.TB, db bridge.Store, fn func(bridge.Tx) error) {
	t.Helper()
	if err := db.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func view(t testing.TB, db bridge.Store, fn func(bridge.Tx) error) {
	t.Helper()
	if err := db.View(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func addConversation(t testing.TB, db bridge.Store, id string, expires time.Time) {
	t.Helper()
	update(t, db, func(tx bridge.Tx) error {
		return tx.CreateConversation(bridge.Conversation{ID: id, RoleA: "backend", RoleB: "frontend", CreatedAt: t0, ExpiresAt: expires})
	})
}

// The shared store behaviour, on PostgreSQL; handles are separate pools,
// standing for separate nodes.
func TestStoreBehaviour(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func(t *testing.T) bridge.Store {
		dsn := newDatabase(t)
		return func(t *testing.T) bridge.Store { return open(t, dsn) }
	})
}

// Two nodes writing through the service at once: the audit trail stays one
// chain per conversation and the global chain (seq 1..n in each, each row
// chained to the one before), which needs the writes of each chain
// serialised on every node.
func TestConcurrentNodesKeepAuditChainLinear(t *testing.T) {
	dsn := newDatabase(t)
	key, err := token.LoadOrCreate(t.TempDir() + "/key")
	if err != nil {
		t.Fatal(err)
	}
	cfg := bridge.DefaultConfig()
	cfg.SessionLimits = nil // many sends from one session
	var svcs []*bridge.Service
	for i := 0; i < 2; i++ {
		svcs = append(svcs, bridge.NewService(open(t, dsn), key, redact.Default(), cfg, nil))
	}
	// One conversation per worker, so that no row but the audit trail's
	// head is shared: only the write lock orders the workers.
	const perWorker, workers = 15, 4
	callers := make([]bridge.Caller, workers)
	for w := range callers {
		created, err := svcs[0].CreateConversation(context.Background(), "backend", "frontend")
		if err != nil {
			t.Fatal(err)
		}
		callers[w] = bridge.Caller{ConversationID: created.Conversation.ID, Session: "a", Token: created.TokenA}
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc := svcs[w%2]
			for i := 0; i < perWorker; i++ {
				if _, err := svc.Send(context.Background(), callers[w], bridge.SendInput{Message: fmt.Sprintf("m%d", i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	rep, err := svcs[1].VerifyAudit(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("audit chain broken: %+v", rep.Problems)
	}
	rows, err := svcs[1].Audit(context.Background(), bridge.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// Each creation is one row of the global chain and opens its
	// conversation's chain; each send is one row of its conversation's.
	if want := 2*workers + workers*perWorker; len(rows) != want {
		t.Fatalf("%d audit rows, want %d", len(rows), want)
	}
	last := map[string]bridge.AuditEntry{}
	for _, r := range rows {
		prev, seen := last[r.Chain]
		if !seen && r.Seq != 1 || seen && (r.Seq != prev.Seq+1 || r.PrevDigest != prev.Digest) {
			t.Fatalf("chain %q: row %d does not follow row %d", r.Chain, r.Seq, prev.Seq)
		}
		last[r.Chain] = r
	}
	if len(last) != workers+1 || last[""].Seq != workers {
		t.Fatalf("chains: %d, global head %d", len(last), last[""].Seq)
	}
}

// A connection killed in the middle of a transaction leaves none of its
// rows, reports a lost connection to the caller, and the store recovers.
func TestKilledConnectionLeavesNoPartialRow(t *testing.T) {
	dsn := newDatabase(t)
	db := open(t, dsn)
	admin := connect(t, dsn)
	name := strings.TrimPrefix(mustParse(t, dsn).Path, "/")
	const conv = "conv_00000000000000c1"
	err := db.Update(context.Background(), func(tx bridge.Tx) error {
		if err := tx.CreateConversation(bridge.Conversation{ID: conv, RoleA: "x", RoleB: "y", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			return err
		}
		if _, err := admin.Exec(context.Background(),
			`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name); err != nil {
			t.Fatalf("terminate: %v", err)
		}
		return tx.AddMessage(&bridge.Message{ConversationID: conv, From: "a", ActionType: "info", Body: "partial", CreatedAt: t0})
	})
	if err == nil {
		t.Fatal("a transaction on a killed connection committed")
	}
	if bridge.KindOf(err) != bridge.EInternal || !strings.Contains(bridge.MessageOf(err), "lost its connection to PostgreSQL") {
		t.Errorf("error for the caller: kind %s, message %q", bridge.KindOf(err), bridge.MessageOf(err))
	}
	view(t, db, func(tx bridge.Tx) error {
		if _, err := tx.Conversation(conv); !bridge.IsNotFound(err) {
			t.Errorf("the killed transaction left its conversation: %v", err)
		}
		return nil
	})
	addConversation(t, db, conv, t0.Add(time.Hour)) // the pool replaced the connection
}

// The listening connection is killed: the listener wakes its waiters,
// reconnects, and hears the next write of another node.
func TestWatchSurvivesListenerLoss(t *testing.T) {
	dsn := newDatabase(t)
	h1, h2 := open(t, dsn), open(t, dsn)
	admin := connect(t, dsn)
	const conv = "conv_00000000000000c2"
	addConversation(t, h2, conv, t0.Add(time.Hour))
	topic := bridge.ConversationTopic(conv)
	ch, stop := h1.Watch(topic) // starts the listener
	waitFor(t, ch, "the listener's first LISTEN")
	stop()
	old := listenerPID(t, admin, 0)
	ch, stop = h1.Watch(topic)
	if _, err := admin.Exec(context.Background(), `SELECT pg_terminate_backend($1)`, old); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ch, "the listener's loss")
	stop()
	listenerPID(t, admin, old) // reconnected and listening
	ch, stop = h1.Watch(topic)
	defer stop()
	update(t, h2, func(tx bridge.Tx) error {
		tx.Signal(topic)
		return tx.AddMessage(&bridge.Message{ConversationID: conv, From: "a", ActionType: "info", Body: "after", CreatedAt: t0})
	})
	waitFor(t, ch, "a write after the reconnect")
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(postgres.FallbackInterval / 2):
		t.Fatalf("no wake-up from %s", what)
	}
}

// listenerPID waits for the one listening connection on the test database
// whose server process is not `not`, and returns its process id.
func listenerPID(t *testing.T, admin *pgx.Conn, not int) int {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var pids []int
		rows, err := admin.Query(context.Background(),
			`SELECT pid FROM pg_stat_activity WHERE application_name = 'agent-bridge (listen)' AND datname = current_database() AND state = 'idle' AND pid <> $1`, not)
		if err == nil {
			pids, err = pgx.CollectRows(rows, pgx.RowTo[int])
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) == 1 {
			return pids[0]
		}
	}
	t.Fatalf("no listening connection other than process %d", not)
	return 0
}

// Many nodes start at once on an empty database: one migrates, the others
// wait for it under the lock and find the schema current.
func TestMigrationRace(t *testing.T) {
	dsn := newDatabase(t)
	const nodes = 6
	errs := make(chan error, nodes)
	dbs := make(chan *postgres.DB, nodes)
	var wg sync.WaitGroup
	for i := 0; i < nodes; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				errs <- err
				return
			}
			dbs <- db
		}()
	}
	wg.Wait()
	close(errs)
	close(dbs)
	for db := range dbs {
		db.Close()
	}
	for err := range errs {
		t.Errorf("concurrent open: %v", err)
	}
	var v int
	if err := connect(t, dsn).QueryRow(context.Background(), `SELECT version FROM agent_bridge_schema`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != postgres.SchemaVersion() {
		t.Fatalf("schema version %d, want %d", v, postgres.SchemaVersion())
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	dsn := newDatabase(t)
	open(t, dsn).Close()
	if _, err := connect(t, dsn).Exec(context.Background(), `UPDATE agent_bridge_schema SET version = $1`, postgres.SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Open(context.Background(), dsn)
	if err == nil || !strings.Contains(err.Error(), "newer than this agent-bridge") {
		t.Fatalf("opened a newer schema: %v", err)
	}
}

// Times are kept to the millisecond, rounded down, and come back in UTC, as
// from the SQLite store (whose Unix milliseconds the audit digest covers).
func TestTimesKeepMilliseconds(t *testing.T) {
	db := open(t, newDatabase(t))
	at := time.Date(2026, 11, 24, 12, 0, 0, 123_987_654, time.FixedZone("X", 3600))
	want := time.UnixMilli(at.UnixMilli()).UTC()
	const conv = "conv_00000000000000c3"
	update(t, db, func(tx bridge.Tx) error {
		if err := tx.CreateConversation(bridge.Conversation{ID: conv, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}); err != nil {
			return err
		}
		if err := tx.AddMember(bridge.Membership{ConversationID: conv, Member: "b", JoinedAt: at}); err != nil {
			return err
		}
		if err := tx.AddMessage(&bridge.Message{ConversationID: conv, From: "a", To: "b", ActionType: "info", CreatedAt: at, ReadAt: at}); err != nil {
			return err
		}
		return tx.AppendAudit(bridge.AuditEntry{Seq: 1, At: at, Tool: "t", Outcome: "ok", PrevDigest: "p", Digest: "d"})
	})
	view(t, db, func(tx bridge.Tx) error {
		c, err := tx.Conversation(conv)
		if err != nil {
			return err
		}
		msgs, err := tx.Messages(conv)
		if err != nil {
			return err
		}
		rows, err := tx.Audit(bridge.AuditFilter{})
		if err != nil {
			return err
		}
		for name, got := range map[string]time.Time{"created": c.CreatedAt, "message": msgs[0].CreatedAt, "read": msgs[0].ReadAt, "audit": rows[0].At} {
			if got != want {
				t.Errorf("%s: got %v, want %v", name, got, want)
			}
		}
		if msgs[0].Files == nil {
			t.Errorf("files: nil, want an empty list")
		}
		return nil
	})
}

// Close ends the listener's goroutines (the race detector and this count
// would show a leak).
func TestCloseStopsListener(t *testing.T) {
	dsn := newDatabase(t)
	before := runtime.NumGoroutine()
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	ch, stop := db.Watch("t")
	<-ch // the listener's first LISTEN wakes every waiter
	stop()
	db.Close()
	ch, stop = db.Watch("t")
	defer stop()
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("Watch on a closed store blocks")
	}
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before Open", runtime.NumGoroutine(), before)
		}
	}
}

func mustParse(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// BenchmarkDurableCommit mirrors the SQLite store's (internal/mcpserver):
// one write transaction, committed, through the store.
func BenchmarkDurableCommit(b *testing.B) {
	db := open(b, newDatabase(b))
	ctx := context.Background()
	now := time.Now()
	for b.Loop() {
		if err := db.Update(ctx, func(tx bridge.Tx) error { return tx.AddRequest("bench", "", now, now) }); err != nil {
			b.Fatal(err)
		}
	}
}
