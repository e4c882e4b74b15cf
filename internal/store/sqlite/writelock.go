package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// WriteWait bounds how long a write waits for its turn before it fails
// with ErrBusy.
const WriteWait = BusyTimeout * time.Millisecond

// ErrBusy is returned when a write did not get its turn within WriteWait:
// nothing was stored, and the caller may retry.
var ErrBusy = &bridge.Error{Kind: bridge.EInternal,
	Message: "busy: the bridge's database had more writers queued than it could serve in time; nothing was stored. Retry the call."}

// writeLock queues writers, in this process and across processes, before
// they begin: an in-process semaphore, then an exclusive lock on the file
// <db>-write.lock that the kernel queues (flock, LockFileEx). Without it
// every writer but one would poll SQLite's busy handler, which sleeps and
// retries rather than queueing, so under load callers starved and failed
// after the busy timeout. Writers that do not take it (other programs)
// still meet SQLite's own lock and its busy timeout.
type writeLock struct {
	f      *os.File
	sem    chan struct{}
	closed chan struct{}
	once   sync.Once
	err    error // of close
}

func newWriteLock(dbPath string) (*writeLock, error) {
	f, err := os.OpenFile(dbPath+"-write.lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write lock file: %w", err)
	}
	return &writeLock{f: f, sem: make(chan struct{}, 1), closed: make(chan struct{})}, nil
}

// lock waits for this writer's turn, at most WriteWait. An uncontended
// writer takes both locks without a timer or a goroutine: a write
// transaction's fixed cost is paid by every send.
func (l *writeLock) lock() error {
	var ctx context.Context
	var cancel context.CancelFunc
	select {
	case l.sem <- struct{}{}:
	default:
		ctx, cancel = context.WithTimeout(context.Background(), WriteWait)
		defer cancel()
		select {
		case l.sem <- struct{}{}:
		case <-l.closed:
			return errClosed
		case <-ctx.Done():
			return ErrBusy
		}
	}
	select {
	case <-l.closed:
		<-l.sem
		return errClosed
	default:
	}
	took, err := tryLockFile(l.f)
	switch {
	case errors.Is(err, errLockUnsupported):
		return nil // SQLite's own lock still serialises writers
	case err != nil:
		<-l.sem
		return fmt.Errorf("write lock: %w", err)
	case took:
		return nil
	}
	if ctx == nil {
		ctx, cancel = context.WithTimeout(context.Background(), WriteWait)
		defer cancel()
	}
	done := make(chan error, 1)
	go func() { done <- lockFile(l.f) }()
	select {
	case err := <-done:
		if errors.Is(err, errLockUnsupported) {
			return nil
		}
		if err != nil {
			<-l.sem
			return fmt.Errorf("write lock: %w", err)
		}
		return nil
	case <-ctx.Done():
		// The lock may still come: release it then, and only then let
		// the next writer of this process try.
		go func() {
			if <-done == nil {
				unlockFile(l.f)
			}
			<-l.sem
		}()
		return ErrBusy
	}
}

func (l *writeLock) unlock() {
	unlockFile(l.f)
	<-l.sem
}

var errClosed = errors.New("the database is closed")

// close refuses new writers, waits for the one in progress (and for a
// lock still being taken for a writer that gave up), then closes the file.
func (l *writeLock) close() error {
	l.once.Do(func() {
		close(l.closed)
		l.sem <- struct{}{}
		l.err = l.f.Close()
	})
	return l.err
}
