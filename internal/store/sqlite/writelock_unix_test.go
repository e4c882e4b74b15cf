//go:build unix

package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// A write transaction holds the cross-process write lock from before it
// begins until it has committed, so writers of other processes queue on
// it in the kernel; reads never take it.
func TestWritesHoldTheCrossProcessLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other, err := os.OpenFile(path+"-write.lock", os.O_RDWR, 0) // as another process would
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	held := func() bool {
		err := unix.Flock(int(other.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			unix.Flock(int(other.Fd()), unix.LOCK_UN)
			return false
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			t.Fatal(err)
		}
		return true
	}
	if held() {
		t.Fatal("locked with no writer")
	}
	err = db.Update(context.Background(), func(bridge.Tx) error {
		if !held() {
			t.Error("a write transaction runs without the write lock")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.View(context.Background(), func(bridge.Tx) error {
		if held() {
			t.Error("a read took the write lock")
		}
		return nil
	})
	if held() {
		t.Fatal("the lock outlived its transaction")
	}
	// Another process holding it: this process's writer waits its turn.
	if err := unix.Flock(int(other.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	ran := make(chan struct{})
	go func() {
		done <- db.Update(context.Background(), func(bridge.Tx) error { close(ran); return nil })
	}()
	select {
	case <-ran:
		t.Fatal("a writer ran while another process held the write lock")
	default:
	}
	unix.Flock(int(other.Fd()), unix.LOCK_UN)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
