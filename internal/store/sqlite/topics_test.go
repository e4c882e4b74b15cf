package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A process watches only the topic files its waiters wait on, and nothing
// once they have been gone for Linger: no watcher, no file events.
func TestTopicWatchesFollowWaiters(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if files, _, w := db.topics.watching(); files != 0 || w {
		t.Fatalf("before any wait: %d files, watcher %v", files, w)
	}
	_, stop1 := db.Watch("inbox/c/a", "conv/c")
	_, stop2 := db.Watch("conv/c")
	if files, idle, w := db.topics.watching(); files != 2 || idle != 0 || !w {
		t.Fatalf("two topics waited on: %d files (%d idle), watcher %v", files, idle, w)
	}
	// The signal files carry no ids: names are hashes.
	entries, _ := os.ReadDir(db.topics.dir)
	for _, e := range entries {
		if len(e.Name()) != 20 {
			t.Errorf("signal file %q is not a hash", e.Name())
		}
	}
	stop1()
	if files, idle, w := db.topics.watching(); files != 2 || idle != 1 || !w {
		t.Fatalf("one topic left: %d files (%d idle), watcher %v", files, idle, w)
	}
	// A waiter that comes back within Linger keeps the watch it had.
	_, stop1 = db.Watch("inbox/c/a")
	if files, idle, _ := db.topics.watching(); files != 2 || idle != 0 {
		t.Fatalf("a waiter back: %d files (%d idle)", files, idle)
	}
	stop1()
	stop2()
	left := time.Now()
	db.topics.sweep(left.Add(Linger / 2))
	if files, idle, w := db.topics.watching(); files != 2 || idle != 2 || !w {
		t.Fatalf("within Linger of the last wait: %d files (%d idle), watcher %v", files, idle, w)
	}
	db.topics.sweep(left.Add(Linger))
	if files, idle, w := db.topics.watching(); files != 0 || idle != 0 || w {
		t.Fatalf("Linger after the last wait: %d files (%d idle), watcher %v", files, idle, w)
	}
}

// A write wakes a waiter in another process through a watch that
// lingered from an earlier wait.
func TestLingeringWatchWakes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	waiter, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()
	writer, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	_, stop := waiter.Watch("inbox/c/a")
	stop()
	changed, stop := waiter.Watch("inbox/c/a")
	defer stop()
	if files, idle, _ := waiter.topics.watching(); files != 1 || idle != 0 {
		t.Fatalf("watch taken again: %d files (%d idle)", files, idle)
	}
	writer.topics.raise([]string{"inbox/c/a"})
	select {
	case <-changed:
	case <-time.After(FallbackInterval / 2):
		t.Fatal("the other process's raise did not wake the waiter before the fallback timer")
	}
}
