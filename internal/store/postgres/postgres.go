// Package postgres stores the bridge in a PostgreSQL database shared by
// agent-bridge processes on any number of machines (github.com/jackc/pgx/v5).
//
// A write transaction takes a transaction-scoped advisory lock per audit
// chain it writes (ChainLockKey: one per conversation, and WriteLockKey for
// the global chain), in ascending order, before it reads what it will
// write from (bridge.Tx.Lock): writers of one conversation run one at a
// time, on every node, while writers of different conversations never
// wait for each other. A transaction begins at its first lock (lazyTx):
// a process's writers of one conversation queue in memory, and only the
// first holds a connection while it waits for the lock. Message ids come from a sequence. Writes run at
// READ COMMITTED, so each statement after a lock sees every commit made
// under it. Reads run in read-only REPEATABLE READ transactions (one
// snapshot) and never wait for writers. The schema is migrated under the
// global chain's lock.
//
// Tables live in the connection's search_path, so one database can hold
// several bridges in separate schemas (?search_path=NAME in the URL); they
// then share the lock keys and the notification channel, which costs
// waiting and spurious wake-ups, never correctness.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// WriteLockKey is the pg_advisory_xact_lock key of the global chain
// ("agentbrg" in ASCII): creations, cleanup, retention and migrations.
const WriteLockKey int64 = 0x6167656e74627267

// ChainLockKey is the pg_advisory_xact_lock key of an audit chain: a
// 64-bit FNV-1a hash of the conversation id, WriteLockKey for the global
// chain "". Two conversations share a key only by a hash collision, which
// costs waiting, never correctness.
func ChainLockKey(chain string) int64 {
	if chain == "" {
		return WriteLockKey
	}
	h := fnv.New64a()
	h.Write([]byte("agent-bridge chain\x00"))
	h.Write([]byte(chain))
	return int64(h.Sum64())
}

// Channel is the LISTEN/NOTIFY channel a write transaction that raised
// topics notifies, with the topics as payload.
const Channel = "agent_bridge"

// DefaultConnectTimeout bounds a connection attempt when the URL sets no
// connect_timeout, so a command against an unreachable server fails
// instead of hanging.
const DefaultConnectTimeout = 10 * time.Second

// DB is an open bridge database. It implements bridge.Store.
type DB struct {
	pool   *pgxpool.Pool
	where  string // the URL without its password, for messages
	notify *notifier
	gates  gates // this process's writers, queued per chain
}

var _ bridge.Store = (*DB)(nil)

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://) rather than a SQLite file.
func IsURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// Open connects to the database at url (postgres://user@host:port/dbname)
// and migrates it to the current schema. Errors never contain the URL's
// password.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, where, err := parseConfig(url)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", where, scrub(err, url))
	}
	db := &DB{pool: pool, where: where}
	listenCfg := cfg.ConnConfig.Copy()
	listenCfg.RuntimeParams["application_name"] = listenCfg.RuntimeParams["application_name"] + " (listen)"
	db.notify = newNotifier(func(ctx context.Context) (*pgx.Conn, error) { return pgx.ConnectConfig(ctx, listenCfg) }, where)
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", where, err)
	}
	return db, nil
}

// parseConfig parses a connection URL and returns the pool configuration
// and the URL with its password replaced, for messages. pgx's own parse
// errors redact passwords only on a best-effort basis, so a URL that does
// not parse is never quoted.
func parseConfig(raw string) (*pgxpool.Config, string, error) {
	if !IsURL(raw) {
		return nil, "", fmt.Errorf("%q is not a PostgreSQL URL: it must start with postgres:// or postgresql://", Redact(raw))
	}
	where := Redact(raw)
	if _, err := url.Parse(raw); err != nil {
		return nil, "", errors.New("the PostgreSQL URL does not parse (it is not shown: it may hold a password); check its quoting: characters such as @ : / ? # in the user name or password must be percent-encoded")
	}
	cfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		return nil, "", fmt.Errorf("invalid PostgreSQL URL %s: %w", where, scrub(err, raw))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "agent-bridge"
	}
	return cfg, where, nil
}

// passwordParams are the URL query parameters that hold secrets.
var passwordParams = []string{"password", "sslpassword"}

// Redact returns the URL with its password (in the user part or as a query
// parameter) replaced by "xxxxx", for logs and messages. A string that does
// not parse as a URL is replaced whole.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a malformed URL, not shown)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	changed := false
	for _, p := range passwordParams {
		if q.Has(p) {
			q.Set(p, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// secrets returns the passwords written in a URL.
func secrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	if p, has := u.User.Password(); has && p != "" {
		out = append(out, p, url.PathEscape(p), url.QueryEscape(p))
	}
	q := u.Query()
	for _, name := range passwordParams {
		if p := q.Get(name); p != "" {
			out = append(out, p, url.QueryEscape(p))
		}
	}
	return out
}

// scrub returns err with any password of the URL raw removed from its text.
func scrub(err error, raw string) error {
	msg := err.Error()
	clean := msg
	for _, s := range secrets(raw) {
		clean = strings.ReplaceAll(clean, s, "xxxxx")
	}
	if clean == msg {
		return err
	}
	return errors.New(clean)
}

// String returns the database's URL without its password.
func (db *DB) String() string { return db.where }

// Close stops the change listener and closes every connection.
func (db *DB) Close() error {
	db.notify.close()
	db.pool.Close()
	return nil
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations) }

// migrate brings the schema up to date. Many nodes may start at once: the
// version is read under the global chain's lock, so one of them migrates
// and the others find the work done.
func (db *DB) migrate(ctx context.Context) error {
	return db.run(ctx, writeTx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, WriteLockKey)); err != nil {
			return translate("migrate: lock", err, tx.Conn().IsClosed())
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS agent_bridge_schema (
			one     boolean PRIMARY KEY DEFAULT true CHECK (one),
			version integer NOT NULL)`); err != nil {
			return translate("migrate: create version table", err, tx.Conn().IsClosed())
		}
		var v int
		err := tx.QueryRow(ctx, `SELECT version FROM agent_bridge_schema`).Scan(&v)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return translate("migrate: read version", err, tx.Conn().IsClosed())
		}
		if v > len(migrations) {
			return fmt.Errorf("database schema version %d is newer than this agent-bridge understands (%d): upgrade agent-bridge", v, len(migrations))
		}
		if v == len(migrations) {
			return nil
		}
		for i := v; i < len(migrations); i++ {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return translate(fmt.Sprintf("migrate to version %d", i+1), err, tx.Conn().IsClosed())
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO agent_bridge_schema (version) VALUES ($1)
			ON CONFLICT (one) DO UPDATE SET version = excluded.version`, len(migrations)); err != nil {
			return translate("migrate: set version", err, tx.Conn().IsClosed())
		}
		return nil
	})
}

// Update runs fn in a write transaction, which takes the locks of the
// chains it writes (bridge.Tx.Lock), and commits when fn returns nil. The
// commit is durable (as the server's synchronous_commit makes it) when
// Update returns, or with bridge.SyncLater once the server's WAL writer
// flushes it (synchronous_commit off for this transaction). It wakes the
// waiters, on every node, of the topics it raised.
func (db *DB) Update(ctx context.Context, fn func(bridge.Tx) error, opts ...bridge.UpdateOption) error {
	var raised []string
	l := &lazyTx{db: db, ctx: ctx, syncLater: slices.Contains(opts, bridge.SyncLater)}
	err := l.run(func() error {
		if err := fn(&tx{ctx: ctx, tx: l, signals: &raised}); err != nil {
			return err
		}
		return publish(ctx, l, raised)
	})
	if err == nil {
		// This process's waiters need not wait for the round trip.
		db.notify.hub.Raise(raised...)
	}
	return err
}

// maxPayload keeps a NOTIFY payload under PostgreSQL's 8000-byte limit; a
// commit raising more topics than fit wakes every waiter ("*").
const maxPayload = 7000

// publish sends the topics a transaction raised to every node's listener,
// delivered at commit and never on rollback.
func publish(ctx context.Context, ptx *lazyTx, topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	payload := strings.Join(topics, "\n")
	if len(payload) > maxPayload {
		payload = "*"
	}
	if _, err := ptx.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, payload); err != nil {
		return translate("publish change", err, ptx.closed())
	}
	return nil
}

// Watch returns a channel closed after a later commit, on any node, that
// raised one of topics.
func (db *DB) Watch(topics ...string) (<-chan struct{}, func()) {
	return db.notify.watch(topics...)
}

// writeTx begins a write transaction; its locks come after (Tx.Lock). A
// commit notifies listeners only of the topics it raised (publish):
// PostgreSQL delivers them at commit, never before, and never when the
// transaction rolls back.
var writeTx = pgx.TxOptions{
	BeginQuery: `BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE`,
}

// View runs fn in a read-only transaction over one consistent snapshot.
func (db *DB) View(ctx context.Context, fn func(bridge.Tx) error) error {
	return db.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(ptx pgx.Tx) error {
		return fn(&tx{ctx: ctx, tx: &lazyTx{db: db, ctx: ctx, ptx: ptx}})
	})
}

func (db *DB) run(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	ptx, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return translate("begin transaction", err, false)
	}
	// A rollback must reach the server even when ctx is done; on a broken
	// connection it fails, and the server has rolled back already.
	rollback := func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		ptx.Rollback(rctx)
	}
	defer func() {
		if p := recover(); p != nil {
			rollback()
			panic(p)
		}
	}()
	if err := fn(ptx); err != nil {
		rollback()
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		if errors.Is(err, pgx.ErrTxCommitRollback) {
			// A statement failed and fn went on; nothing was stored.
			return fmt.Errorf("commit: the transaction had failed and was rolled back: %w", err)
		}
		return translate(commitWhat, err, ptx.Conn().IsClosed())
	}
	return nil
}
