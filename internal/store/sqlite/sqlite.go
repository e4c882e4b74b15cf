// Package sqlite stores the bridge in one SQLite file shared by every
// agent-bridge process on the machine (modernc.org/sqlite, pure Go).
//
// Many short-lived processes writing one file is the normal case. The
// database runs in WAL mode with synchronous=FULL, so a committed write
// survives kill -9 and power loss; every write transaction starts with
// BEGIN IMMEDIATE, so writers queue on SQLite's lock (busy_timeout) instead
// of failing when they upgrade from reading; the schema is versioned by
// PRAGMA user_version and migrated under that same lock.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// BusyTimeout is how long a transaction waits for another process's write
// lock before failing, in milliseconds.
const BusyTimeout = 10000

// DB is an open bridge database. It implements bridge.Store.
type DB struct {
	path       string
	writer     *sql.DB // BEGIN IMMEDIATE; one connection, so this process's writers queue here
	lazy       *sql.DB // the same, synchronous=NORMAL: for bridge.SyncLater (see laterSync)
	reader     *sql.DB // deferred, query-only transactions
	writeStmts *stmtCache
	lazyStmts  *stmtCache
	readStmts  *stmtCache
	later      laterSync
	topics     *topics
	wlock      *writeLock
	file       os.FileInfo // the database file as opened: see checkFile
}

var _ bridge.Store = (*DB)(nil)

// Open opens (creating if needed) the database at path and migrates it to
// the current schema. A new file, and the WAL and SHM files SQLite creates
// beside it, are readable by their owner only; a missing parent directory
// is created with mode 0700.
func Open(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("open database: create directory: %w", err)
	}
	// Create the file ourselves: SQLite gives the -wal and -shm files the
	// database file's permissions.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}

	db := &DB{path: abs, file: fi}
	if db.topics, err = newTopics(abs); err != nil {
		return nil, fmt.Errorf("open database %s: signal directory: %w", abs, err)
	}
	if db.wlock, err = newWriteLock(abs); err != nil {
		db.topics.close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	db.later.wal = abs + "-wal"
	// Connections open on first use: the lazy writer's only once a take
	// commits.
	var errW, errL, errR error
	db.writer, errW = sql.Open("sqlite", dsn(abs, "immediate", "FULL", false))
	db.lazy, errL = sql.Open("sqlite", dsn(abs, "immediate", "NORMAL", false))
	db.reader, errR = sql.Open("sqlite", dsn(abs, "deferred", "FULL", true))
	if err := errors.Join(errW, errL, errR); err != nil {
		db.topics.close()
		db.wlock.close()
		for _, p := range []*sql.DB{db.writer, db.lazy, db.reader} {
			if p != nil {
				p.Close()
			}
		}
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	db.writer.SetMaxOpenConns(1)
	db.lazy.SetMaxOpenConns(1)
	db.reader.SetMaxOpenConns(4)
	db.writeStmts, db.lazyStmts, db.readStmts = newStmtCache(db.writer), newStmtCache(db.lazy), newStmtCache(db.reader)
	// The first connection turns a new file into WAL mode, which needs an
	// exclusive lock; two processes doing it at once can deadlock, and
	// SQLite then answers "database is locked" without waiting. Migrating
	// under the write lock makes first opens take turns.
	if err := db.wlock.lock(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	err = db.migrate(ctx)
	db.wlock.unlock()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	return db, nil
}

// dsn builds a modernc.org/sqlite URI. journal_mode=WAL is persistent in the
// file; the other pragmas apply to each connection.
func dsn(path, txlock, synchronous string, queryOnly bool) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	q := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", BusyTimeout),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(" + synchronous + ")",
		"_pragma=foreign_keys(1)",
		// Statement journals (a multi-row insert inside a transaction)
		// and sorts stay in memory instead of temporary files.
		"_pragma=temp_store(2)",
		"_txlock=" + txlock,
	}
	if queryOnly {
		q = append(q, "_pragma=query_only(1)")
	}
	return "file:" + r.Replace(path) + "?" + strings.Join(q, "&")
}

// Path returns the database file's absolute path.
func (db *DB) Path() string { return db.path }

// Close closes the database.
func (db *DB) Close() error {
	db.topics.close()
	var errs []error
	if db.wlock != nil {
		errs = append(errs, db.wlock.close())
	}
	db.later.close() // while the WAL is surely there
	errs = append(errs, db.writeStmts.close(), db.lazyStmts.close(), db.readStmts.close())
	errs = append(errs, db.reader.Close(), db.lazy.Close(), db.writer.Close())
	return errors.Join(errs...)
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations) }

func (db *DB) migrate(ctx context.Context) error {
	tx, err := db.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE: one migrator at a time
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this agent-bridge understands (%d): upgrade agent-bridge", v, len(migrations))
	}
	if v == len(migrations) {
		return nil
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate to version %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("migrate: set version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// Update runs fn in a write transaction (BEGIN IMMEDIATE) and commits when
// fn returns nil. The commit is durable when Update returns, or with
// bridge.SyncLater soon after (see laterSync).
func (db *DB) Update(ctx context.Context, fn func(bridge.Tx) error, opts ...bridge.UpdateOption) error {
	if err := db.wlock.lock(); err != nil {
		return err
	}
	defer db.wlock.unlock()
	pool, stmts := db.writer, db.writeStmts
	lazy := slices.Contains(opts, bridge.SyncLater)
	if lazy {
		pool, stmts = db.lazy, db.lazyStmts
	}
	var raised []string
	err := db.run(ctx, pool, stmts, false, func(t bridge.Tx) error {
		t.(*tx).signals = &raised
		return fn(t)
	})
	if err != nil {
		return err
	}
	if lazy {
		db.later.lazy()
	}
	db.topics.raise(raised)
	return nil
}

// Watch returns a channel closed after a later commit, by any process,
// that raised one of topics (see topics).
func (db *DB) Watch(topics ...string) (<-chan struct{}, func()) {
	return db.topics.hub.Watch(topics...)
}

// View runs fn in a read-only transaction over one consistent snapshot.
func (db *DB) View(ctx context.Context, fn func(bridge.Tx) error) error {
	return db.run(ctx, db.reader, db.readStmts, true, fn)
}

func (db *DB) run(ctx context.Context, pool *sql.DB, stmts *stmtCache, readOnly bool, fn func(bridge.Tx) error) (err error) {
	// Checked first too: a connection opened after the file was deleted
	// would see a new, empty database at the same path.
	if err := db.checkFile(); err != nil {
		return err
	}
	stx, err := pool.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			stx.Rollback()
			panic(p)
		}
	}()
	defer stmts.prepareMissed(context.WithoutCancel(ctx))
	if err := fn(&tx{ctx: ctx, tx: stx, stmts: stmts}); err != nil {
		stx.Rollback()
		return err
	}
	// Checked last, just before the commit, so a write acknowledged to a
	// caller is a write to the file every other process reads.
	if err := db.checkFile(); err != nil {
		stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ErrFileGone is returned by every transaction once the database file has
// been deleted or replaced since this process opened it. SQLite would go on
// reading and writing the unlinked file, acknowledging sends that no other
// process can ever see; refusing every call makes the loss loud instead.
var ErrFileGone = &bridge.Error{
	Kind: bridge.EInternal,
	Message: "the bridge's database file was deleted or replaced while this server was running; nothing was stored. " +
		"Tell the person running agent-bridge to restart this MCP server (and to restore the database from a backup if it was deleted by mistake).",
}

// checkFile returns ErrFileGone when the path no longer names the file
// this process opened. One stat per transaction: about a microsecond.
func (db *DB) checkFile() error {
	fi, err := os.Stat(db.path)
	if err != nil || !os.SameFile(fi, db.file) {
		return ErrFileGone
	}
	return nil
}

// stmtCache keeps one prepared statement per query text for a pool. A
// query seen for the first time inside a transaction is prepared after that
// transaction ends (see tx.prepared).
type stmtCache struct {
	pool    *sql.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[query]
	if !ok && c.m != nil {
		c.pending[query] = true
	}
	return s
}

// prepareMissed prepares the queries that missed the cache. Failures are
// ignored: such a query keeps running unprepared.
func (c *stmtCache) prepareMissed(ctx context.Context) {
	c.mu.Lock()
	var todo []string
	for q := range c.pending {
		todo = append(todo, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range todo {
		s, err := c.pool.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, dup := c.m[q]; dup || c.m == nil {
			s.Close()
		} else {
			c.m[q] = s
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, s := range c.m {
		errs = append(errs, s.Close())
	}
	c.m = nil
	return errors.Join(errs...)
}

// Backup writes a consistent copy of the live database to dest (which must
// not exist), while other processes keep writing: VACUUM INTO reads one
// snapshot. The copy is created 0600 and checked with integrity_check.
func (db *DB) Backup(ctx context.Context, dest string) error {
	abs, err := filepath.Abs(dest)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	if _, err := db.writer.ExecContext(ctx, `VACUUM INTO ?`, abs); err != nil {
		os.Remove(abs)
		return fmt.Errorf("backup: %w", err)
	}
	return CheckIntegrity(ctx, abs)
}

// CheckIntegrity runs PRAGMA integrity_check on the database file at path.
func CheckIntegrity(ctx context.Context, path string) error {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	c, err := sql.Open("sqlite", "file:"+r.Replace(path)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	defer c.Close()
	var res string
	if err := c.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("integrity check of %s: %w", path, err)
	}
	if res != "ok" {
		return fmt.Errorf("integrity check of %s failed: %s", path, res)
	}
	return nil
}
