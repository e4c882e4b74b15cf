package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// lazyTx is a transaction that begins at its first statement or its first
// chain lock. A writer that names its conversation first (every call does,
// see bridge.Tx.Lock) waits behind this process's other writers of that
// conversation without holding a connection, then begins and takes the
// advisory lock in one round trip: writers queued on a busy conversation
// cannot use up the pool that other conversations' writers need.
type lazyTx struct {
	db    *DB
	ctx   context.Context
	ptx   pgx.Tx   // nil until begun
	gates []string // chains whose in-process gate this transaction holds
	// syncLater commits without waiting for the WAL flush (bridge.SyncLater).
	syncLater bool
}

func lockSQL(chains []string) string {
	var q strings.Builder
	for _, c := range chains {
		fmt.Fprintf(&q, "; SELECT pg_advisory_xact_lock(%d)", ChainLockKey(c))
	}
	return q.String()
}

// lock takes the advisory locks of chains (in the order given): as part of
// BEGIN, after this process's gates, when the transaction has not begun.
func (l *lazyTx) lock(chains []string) error {
	if l.ptx != nil {
		_, err := l.Exec(l.ctx, strings.TrimPrefix(lockSQL(chains), "; "))
		return translate("take chain lock", err, l.closed())
	}
	for _, c := range chains {
		if err := l.db.gates.acquire(l.ctx, c); err != nil {
			return fmt.Errorf("wait for chain %q: %w", c, err)
		}
		l.gates = append(l.gates, c)
	}
	return l.begin(lockSQL(chains))
}

func (l *lazyTx) begin(locks string) error {
	if l.ptx != nil {
		return nil
	}
	opts := writeTx
	if l.syncLater {
		opts.BeginQuery += "; SET LOCAL synchronous_commit TO off"
	}
	opts.BeginQuery += locks
	ptx, err := l.db.pool.BeginTx(l.ctx, opts)
	if err != nil {
		return translate("begin transaction and take chain locks", err, false)
	}
	l.ptx = ptx
	return nil
}

func (l *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := l.begin(""); err != nil {
		return pgconn.CommandTag{}, err
	}
	return l.ptx.Exec(ctx, sql, args...)
}

func (l *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := l.begin(""); err != nil {
		return nil, err
	}
	return l.ptx.Query(ctx, sql, args...)
}

func (l *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := l.begin(""); err != nil {
		return errRow{err}
	}
	return l.ptx.QueryRow(ctx, sql, args...)
}

// closed reports whether the transaction's connection is lost.
func (l *lazyTx) closed() bool { return l.ptx != nil && l.ptx.Conn().IsClosed() }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// run runs fn, then commits what it did (nothing when it never began), or
// rolls back when fn fails or panics; the gates are released either way.
func (l *lazyTx) run(fn func() error) error {
	defer func() {
		for _, c := range l.gates {
			l.db.gates.release(c)
		}
	}()
	// A rollback must reach the server even when ctx is done; on a broken
	// connection it fails, and the server has rolled back already.
	rollback := func() {
		if l.ptx == nil {
			return
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(l.ctx), 5*time.Second)
		defer cancel()
		l.ptx.Rollback(rctx)
	}
	defer func() {
		if p := recover(); p != nil {
			rollback()
			panic(p)
		}
	}()
	if err := fn(); err != nil {
		rollback()
		return err
	}
	if l.ptx == nil {
		return nil
	}
	if err := l.ptx.Commit(l.ctx); err != nil {
		if errors.Is(err, pgx.ErrTxCommitRollback) {
			// A statement failed and fn went on; nothing was stored.
			return fmt.Errorf("commit: the transaction had failed and was rolled back: %w", err)
		}
		return translate(commitWhat, err, l.ptx.Conn().IsClosed())
	}
	return nil
}

// gates queue this process's writers of one chain, so at most one of them
// at a time holds a connection waiting for the chain's advisory lock.
type gates struct {
	mu sync.Mutex
	m  map[string]*gate
}

type gate struct {
	ch   chan struct{}
	refs int
}

func (g *gates) acquire(ctx context.Context, chain string) error {
	g.mu.Lock()
	if g.m == nil {
		g.m = map[string]*gate{}
	}
	gt := g.m[chain]
	if gt == nil {
		gt = &gate{ch: make(chan struct{}, 1)}
		g.m[chain] = gt
	}
	gt.refs++
	g.mu.Unlock()
	select {
	case gt.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		g.drop(chain, gt)
		return ctx.Err()
	}
}

func (g *gates) release(chain string) {
	g.mu.Lock()
	gt := g.m[chain]
	g.mu.Unlock()
	<-gt.ch
	g.drop(chain, gt)
}

func (g *gates) drop(chain string, gt *gate) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gt.refs--; gt.refs == 0 {
		delete(g.m, chain)
	}
}
