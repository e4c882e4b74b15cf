package bridge_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
)

// optsRecorder records, per write transaction that committed, whether it
// asked for SyncLater.
type optsRecorder struct {
	bridge.Store
	mu   sync.Mutex
	lazy []bool
}

func (s *optsRecorder) Update(ctx context.Context, fn func(bridge.Tx) error, opts ...bridge.UpdateOption) error {
	err := s.Store.Update(ctx, fn, opts...)
	if err == nil {
		s.mu.Lock()
		s.lazy = append(s.lazy, slices.Contains(opts, bridge.SyncLater))
		s.mu.Unlock()
	}
	return err
}

func (s *optsRecorder) take() []bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.lazy
	s.lazy = nil
	return l
}

// Only a take commits with SyncLater: a send, and every other write, is
// durable before the call returns.
func TestOnlyTakesSyncLater(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	store := &optsRecorder{Store: db}
	svc, _, _ := journaledOn(t, store, func(c *bridge.Config) { c.SessionLimits = nil; c.JournalDelay = 0 })
	a, b := journalPair(t, svc)
	store.take()

	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "hi"}); err != nil {
		t.Fatal(err)
	}
	if got := store.take(); !slices.Equal(got, []bool{false}) {
		t.Fatalf("a send's commits asked SyncLater: %v, want [false]", got)
	}
	in, err := svc.CheckMessages(ctx, b, bridge.CheckInput{})
	if err != nil || len(in.Messages) != 1 {
		t.Fatalf("check: %v, %d messages", err, len(in.Messages))
	}
	if got := store.take(); !slices.Equal(got, []bool{true}) {
		t.Fatalf("a take's commits asked SyncLater: %v, want [true]", got)
	}

	done := make(chan error, 1)
	go func() {
		in, err := svc.CheckMessages(ctx, b, bridge.CheckInput{Wait: time.Minute})
		if err == nil && len(in.Messages) != 1 {
			err = fmt.Errorf("the wait took %d messages", len(in.Messages))
		}
		done <- err
	}()
	for svc.Waiters() == 0 {
		runtime.Gosched()
	}
	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "while b waits"}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := store.take()
	if len(got) < 2 || got[0] || !got[len(got)-1] || slices.Contains(got[1:len(got)-1], true) {
		t.Fatalf("a send then a waiting take asked SyncLater: %v, want false first, true last and only", got)
	}
}
