package sqlite

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// FallbackInterval is how often waiters re-check when no file event came:
// a safety net for file systems that do not report changes (some network
// mounts), not the way changes normally arrive.
const FallbackInterval = 2 * time.Second

// notifier wakes waiters when the database changes.
//
// After each commit, a writer writes one byte to a small file beside the
// database (<db>-notify), and every waiting process hears of it from the
// kernel (inotify on Linux, kqueue on BSD and macOS, through fsnotify): no
// polling while idle, and a wake-up within a millisecond or so. Watching
// the WAL itself is not enough: its last write lands before the commit is
// visible to readers (fsync and the shared-memory index come after), so a
// waiter woken by it could read too early and sleep through the message.
// Commits by this process also wake its waiters directly, and a slow timer
// covers file systems without change events and writers that are not
// agent-bridge.
type notifier struct {
	path string // the notify file
	file *os.File

	mu      sync.Mutex
	ch      chan struct{}
	started bool
	stop    chan struct{}
	done    chan struct{}
	closed  sync.Once
}

// newNotifier opens (creating, mode 0600) the notify file of the database
// at dbPath.
func newNotifier(dbPath string) (*notifier, error) {
	path := dbPath + "-notify"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("notify file: %w", err)
	}
	return &notifier{path: path, file: f, ch: make(chan struct{}), stop: make(chan struct{})}, nil
}

// committed tells every process that a commit is visible.
func (n *notifier) committed() {
	// The byte written does not matter, only the write event. A failure
	// costs waiters latency (the fallback timer), not correctness.
	n.file.WriteAt([]byte{'.'}, 0)
	n.broadcast()
}

// changed returns the channel closed at the next change, starting the
// watcher on first use (servers that never wait never watch).
func (n *notifier) changed() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.started {
		n.started = true
		n.done = make(chan struct{})
		go n.watch()
	}
	return n.ch
}

// broadcast wakes every waiter.
func (n *notifier) broadcast() {
	n.mu.Lock()
	close(n.ch)
	n.ch = make(chan struct{})
	n.mu.Unlock()
}

func (n *notifier) close() {
	n.closed.Do(func() {
		n.mu.Lock()
		started := n.started
		n.started = true // no watcher starts after close
		n.mu.Unlock()
		close(n.stop)
		if started && n.done != nil {
			<-n.done
		}
		n.file.Close()
	})
}

func (n *notifier) watch() {
	defer close(n.done)
	tick := time.NewTicker(FallbackInterval)
	defer tick.Stop()
	var events chan fsnotify.Event
	var errs chan error
	w, err := fsnotify.NewWatcher()
	if err == nil {
		// Watch the directory, not the file, so a notify file that is
		// removed and created again is still heard.
		if err = w.Add(filepath.Dir(n.path)); err != nil {
			w.Close()
		} else {
			defer w.Close()
			events, errs = w.Events, w.Errors
		}
	}
	if err != nil {
		slog.Warn("no file events for the database; waiting falls back to polling", "every", FallbackInterval, "err", err)
	}
	for {
		select {
		case <-n.stop:
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Name == n.path && ev.Op&(fsnotify.Write|fsnotify.Create) != 0 {
				n.broadcast()
			}
		case _, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			n.broadcast() // events may have been lost: let waiters re-check
		case <-tick.C:
			n.broadcast()
		}
	}
}
