package sqlite

import (
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// laterSync makes the commits of bridge.SyncLater durable. Such a commit
// runs on a connection with synchronous=NORMAL: its frames reach the WAL
// file (so any process crash keeps them) but are not fsynced. The next
// durable commit of any process fsyncs the WAL, and with it every earlier
// frame; whether or not one came, laterSync fsyncs the WAL itself
// bridge.SyncLaterBound after the first SyncLater commit it has not synced
// (a commit that wrote nothing syncs nothing, so it cannot be counted on):
// at most one fsync a second, off the write path.
type laterSync struct {
	wal string // path of the database's -wal file

	mu      sync.Mutex
	pending bool        // a SyncLater commit not yet known durable
	timer   *time.Timer // armed while pending
	closed  bool
	synced  int // fsyncs done (for tests)
}

// lazy records a SyncLater commit.
func (l *laterSync) lazy() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = true
	if l.timer == nil && !l.closed {
		l.timer = time.AfterFunc(bridge.SyncLaterBound, l.sync)
	}
}

// sync fsyncs the WAL if a SyncLater commit is still pending.
func (l *laterSync) sync() {
	l.mu.Lock()
	l.timer = nil
	pending := l.pending
	l.pending = false
	l.mu.Unlock()
	if !pending {
		return
	}
	// fsync applies to the file, whichever descriptor asks; Windows needs
	// one opened for writing.
	f, err := os.OpenFile(l.wal, os.O_RDWR, 0)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err == nil {
		l.mu.Lock()
		l.synced++
		l.mu.Unlock()
	}
	if err != nil && !os.IsNotExist(err) { // no WAL: a checkpoint synced and removed it
		slog.Warn("cannot sync the database log; takes since the last durable commit may be undone by a power failure", "err", err)
	}
}

// close syncs what is pending and stops the timer.
func (l *laterSync) close() {
	l.mu.Lock()
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.mu.Unlock()
	l.sync()
}
