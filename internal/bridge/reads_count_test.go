package bridge_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
)

// readCounter counts the reads of the rows every call needs, in every
// transaction of the store.
type readCounter struct {
	bridge.Store
	mu sync.Mutex
	n  map[string]int
}

func (s *readCounter) count(what string) {
	s.mu.Lock()
	s.n[what]++
	s.mu.Unlock()
}

func (s *readCounter) reset() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.n
	s.n = map[string]int{}
	return n
}

func (s *readCounter) Update(ctx context.Context, fn func(bridge.Tx) error, opts ...bridge.UpdateOption) error {
	return s.Store.Update(ctx, func(tx bridge.Tx) error { return fn(&readCountingTx{tx, s}) }, opts...)
}

func (s *readCounter) View(ctx context.Context, fn func(bridge.Tx) error) error {
	return s.Store.View(ctx, func(tx bridge.Tx) error { return fn(&readCountingTx{tx, s}) })
}

type readCountingTx struct {
	bridge.Tx
	s *readCounter
}

func (t *readCountingTx) Conversation(id string) (bridge.Conversation, error) {
	t.s.count("Conversation")
	return t.Tx.Conversation(id)
}

func (t *readCountingTx) Members(conv string) ([]bridge.Membership, error) {
	t.s.count("Members")
	return t.Tx.Members(conv)
}

func (t *readCountingTx) Member(conv string, id bridge.Member) (bridge.Membership, error) {
	t.s.count("Member")
	return t.Tx.Member(conv, id)
}

func (t *readCountingTx) ConversationMembers(conv string) (bridge.Conversation, []bridge.Membership, error) {
	t.s.count("ConversationMembers")
	return t.Tx.ConversationMembers(conv)
}

func (t *readCountingTx) StaleTasks(conv string, now time.Time, def time.Duration) ([]bridge.StaleTask, error) {
	t.s.count("StaleTasks")
	return t.Tx.StaleTasks(conv, now, def)
}

func (t *readCountingTx) UnreadCount(conv string, to bridge.Member) (int, error) {
	t.s.count("UnreadCount")
	return t.Tx.UnreadCount(conv, to)
}

// A send reads its conversation and members once, and asks for stale
// tasks only when a member has been silent long enough for one to be due.
func TestSendReadsWhatItNeedsOnce(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	store := &readCounter{Store: db, n: map[string]int{}}
	svc, _, now := journaledOn(t, store, func(c *bridge.Config) { c.SessionLimits = nil })
	a, b := journalPair(t, svc)
	for _, c := range []bridge.Caller{a, b} { // both members have called
		if _, err := svc.PartnerStatus(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	store.reset()
	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "hi"}); err != nil {
		t.Fatal(err)
	}
	if got, want := store.reset(), map[string]int{"ConversationMembers": 1}; !equalCounts(got, want) {
		t.Errorf("a send among members who just called read %v, want %v", got, want)
	}
	// b silent past the shortest threshold: a task of b's could be due.
	*now = now.Add(bridge.MinReassignAfter + time.Second)
	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "still there?"}); err != nil {
		t.Fatal(err)
	}
	if got, want := store.reset(), map[string]int{"ConversationMembers": 1, "StaleTasks": 1}; !equalCounts(got, want) {
		t.Errorf("a send with a silent member read %v, want %v", got, want)
	}
	// A check that takes less than a page does not count what is left.
	if _, err := svc.CheckMessages(ctx, b, bridge.CheckInput{}); err != nil {
		t.Fatal(err)
	}
	if got := store.reset(); got["UnreadCount"] != 0 {
		t.Errorf("a check that took everything counted the rest: %v", got)
	}
}

func equalCounts(got, want map[string]int) bool {
	for k, v := range got {
		if want[k] != v {
			return false
		}
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}
