package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A process watches only the topic files its waiters wait on, and nothing
// once they are gone: no watcher, no file events.
func TestTopicWatchesFollowWaiters(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if files, w := db.topics.watching(); files != 0 || w {
		t.Fatalf("before any wait: %d files, watcher %v", files, w)
	}
	_, stop1 := db.Watch("inbox/c/a", "conv/c")
	_, stop2 := db.Watch("conv/c")
	if files, w := db.topics.watching(); files != 2 || !w {
		t.Fatalf("two topics waited on: %d files, watcher %v", files, w)
	}
	// The signal files carry no ids: names are hashes.
	entries, _ := os.ReadDir(db.topics.dir)
	for _, e := range entries {
		if len(e.Name()) != 20 {
			t.Errorf("signal file %q is not a hash", e.Name())
		}
	}
	stop1()
	if files, w := db.topics.watching(); files != 1 || !w {
		t.Fatalf("one topic left: %d files, watcher %v", files, w)
	}
	stop2()
	if files, w := db.topics.watching(); files != 0 || w {
		t.Fatalf("after the last wait: %d files, watcher %v", files, w)
	}
}
