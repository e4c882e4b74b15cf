package sqlite

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/agent-bridge/agent-bridge/internal/store/signal"
)

// FallbackInterval is how often waiters re-check when no file event came:
// a safety net for file systems that do not report changes (some network
// mounts), not the way changes normally arrive.
const FallbackInterval = 2 * time.Second

// topics carries named signals between the processes sharing a database.
//
// Each topic has a small file in <db>-notify.d/, named by a hash of the
// topic (no ids on disk). A writer touches, after its commit, the files of
// the topics it raised, and only files that exist: a file exists once some
// process waited on its topic. A process watches exactly the files of the
// topics its waiters wait on (inotify or kqueue on each file, through
// fsnotify), drops a file's watch when its last waiter leaves, and closes
// the watcher itself when nothing waits. So a commit wakes only the
// processes waiting on what it changed, and an idle process pays nothing.
//
// A file's watch outlives its last waiter by Linger: an agent that waits
// again right after each message (the loop agents are told to run) keeps
// one watch instead of opening and closing an inotify instance per
// message.
type topics struct {
	dir string
	hub signal.Hub

	mu      sync.Mutex
	w       *fsnotify.Watcher
	byFile  map[string]string    // watched file -> topic
	idle    map[string]time.Time // watched files no waiter uses -> since when
	sweeper *time.Timer          // armed while idle is not empty
	stopped chan struct{}        // closes the current watcher's loop
	done    chan struct{}        // closed when that loop has ended
}

// Linger is how long a topic file stays watched after its last waiter
// left.
const Linger = 2 * time.Second

func newTopics(dbPath string) (*topics, error) {
	t := &topics{dir: dbPath + "-notify.d", byFile: map[string]string{}, idle: map[string]time.Time{}}
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return nil, err
	}
	t.hub.First, t.hub.Last = t.watchFile, t.unwatchFile
	return t, nil
}

func (t *topics) file(topic string) string {
	sum := sha256.Sum256([]byte(topic))
	return filepath.Join(t.dir, hex.EncodeToString(sum[:10]))
}

// raise tells this process's waiters and every other process's.
func (t *topics) raise(names []string) {
	if len(names) == 0 {
		return
	}
	t.hub.Raise(names...)
	for _, n := range names {
		f, err := os.OpenFile(t.file(n), os.O_WRONLY, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue // nobody ever waited on it
		}
		if err != nil {
			continue // costs a remote waiter the fallback timer, not correctness
		}
		f.WriteAt([]byte{'.'}, 0)
		f.Close()
	}
}

// watchFile starts watching topic's file (the hub's First), or keeps the
// watch it still has.
func (t *topics) watchFile(topic string) {
	path := t.file(topic)
	t.mu.Lock()
	if _, ok := t.idle[path]; ok {
		delete(t.idle, path)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err == nil {
		f.Close()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			slog.Warn("no file events for the database; waiting falls back to polling", "every", FallbackInterval, "err", err)
			return
		}
		t.w, t.stopped, t.done = w, make(chan struct{}), make(chan struct{})
		go t.loop(w, t.stopped, t.done)
	}
	if err := t.w.Add(path); err != nil {
		slog.Warn("cannot watch a database signal file; its waiters fall back to polling", "every", FallbackInterval, "err", err)
		return
	}
	t.byFile[path] = topic
}

// unwatchFile marks topic's file idle (the hub's Last): the sweep stops
// watching it Linger later, unless a waiter came back.
func (t *topics) unwatchFile(topic string) {
	path := t.file(topic)
	t.mu.Lock()
	if _, ok := t.byFile[path]; !ok {
		t.mu.Unlock()
		return
	}
	t.idle[path] = time.Now()
	if t.sweeper == nil {
		t.sweeper = time.AfterFunc(Linger, func() { t.sweep(time.Now()) })
	}
	t.mu.Unlock()
}

// sweep stops watching the files idle for Linger at now, and the watcher
// once no file is left; it re-arms itself for files idle for less.
func (t *topics) sweep(now time.Time) {
	t.mu.Lock()
	t.sweeper = nil
	next := time.Duration(-1)
	for path, since := range t.idle {
		if left := Linger - now.Sub(since); left > 0 {
			if next < 0 || left < next {
				next = left
			}
			continue
		}
		delete(t.idle, path)
		delete(t.byFile, path)
		if t.w != nil {
			t.w.Remove(path)
		}
	}
	if next >= 0 {
		t.sweeper = time.AfterFunc(next, func() { t.sweep(time.Now()) })
	}
	var stop, done chan struct{}
	var w *fsnotify.Watcher
	if t.w != nil && len(t.byFile) == 0 {
		w, stop, done = t.w, t.stopped, t.done
		t.w = nil
	}
	t.mu.Unlock()
	if w != nil {
		close(stop)
		w.Close()
		<-done
	}
}

// watching reports how many files this process watches, and how many of
// them no waiter uses (for tests).
func (t *topics) watching() (files, idle int, watcher bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byFile), len(t.idle), t.w != nil
}

func (t *topics) loop(w *fsnotify.Watcher, stop, done chan struct{}) {
	defer close(done)
	tick := time.NewTicker(FallbackInterval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Op&(fsnotify.Write|fsnotify.Create) == 0 {
				continue
			}
			t.mu.Lock()
			topic, ok := t.byFile[ev.Name]
			t.mu.Unlock()
			if ok {
				t.hub.Raise(topic)
			}
		case _, ok := <-w.Errors:
			if !ok {
				return
			}
			t.hub.RaiseAll() // events may have been lost: let waiters re-check
		case <-tick.C:
			t.hub.RaiseAll()
		}
	}
}

func (t *topics) close() {
	t.mu.Lock()
	w, stop, done := t.w, t.stopped, t.done
	t.w = nil
	t.byFile, t.idle = map[string]string{}, map[string]time.Time{}
	if t.sweeper != nil {
		t.sweeper.Stop()
		t.sweeper = nil
	}
	t.mu.Unlock()
	if w != nil {
		close(stop)
		w.Close()
		<-done
	}
	t.hub.RaiseAll()
}
