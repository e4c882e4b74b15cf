package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// A SyncLater commit runs on the connection that does not fsync, every
// other on the one that does; what it stored is in the WAL file, where
// another process reads it (and a crash of this one would keep it).
func TestSyncLaterCommitsWithoutFsync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	commits := 0
	level := func(opts ...bridge.UpdateOption) int {
		var v int
		commits++
		err := db.Update(ctx, func(btx bridge.Tx) error {
			at := time.Now()
			if err := btx.AddRequest(fmt.Sprint("subject ", commits), "", at, time.Time{}); err != nil {
				return err
			}
			return btx.(*tx).queryRow("PRAGMA synchronous").Scan(&v)
		}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := level(bridge.SyncLater); v != 1 {
		t.Fatalf("a SyncLater commit ran with synchronous=%d, want 1 (NORMAL)", v)
	}
	if v := level(); v != 2 {
		t.Fatalf("a durable commit ran with synchronous=%d, want 2 (FULL)", v)
	}

	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	level(bridge.SyncLater)
	var read int
	if err := other.View(ctx, func(btx bridge.Tx) error {
		return btx.(*tx).queryRow("SELECT count(*) FROM rate_events").Scan(&read)
	}); err != nil {
		t.Fatal(err)
	}
	if read != commits {
		t.Fatalf("another process reads %d rate events, want %d", read, commits)
	}
}

// The log is fsynced once for the SyncLater commits before the bound (the
// timer), and at Close for those after; never with nothing pending.
func TestLaterSyncFsyncsWhatIsPending(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	l := &db.later
	synced := func() int { l.mu.Lock(); defer l.mu.Unlock(); return l.synced }

	l.sync() // as the timer would
	if n := synced(); n != 0 {
		t.Fatalf("%d fsyncs with no SyncLater commit", n)
	}
	l.lazy()
	l.lazy()
	if l.timer == nil {
		t.Fatal("no timer armed for a pending SyncLater commit")
	}
	l.sync()
	if n := synced(); n != 1 {
		t.Fatalf("%d fsyncs for two pending SyncLater commits, want 1", n)
	}
	l.lazy()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := synced(); n != 2 {
		t.Fatalf("Close left a SyncLater commit unsynced (%d fsyncs)", n)
	}
}
