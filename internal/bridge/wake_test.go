package bridge_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/store/storetest"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// spyServices returns two services over one spied store: one whose agents
// run in workdir (it records their endpoints), and one that records none.
func spyServices(t *testing.T, workdir string) (withDir, other *bridge.Service, spy *storetest.Spy) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	spy = storetest.NewSpy(db)
	var key token.Key
	key[0] = 7
	cfg := bridge.DefaultConfig()
	cfg.SessionLimits, cfg.CreateLimits, cfg.CreatorLimits = nil, nil, nil
	other = bridge.NewService(spy, key, nil, cfg, nil)
	cfg.Workdir = workdir
	withDir = bridge.NewService(spy, key, nil, cfg, nil)
	return withDir, other, spy
}

type pair struct{ a, b bridge.Caller }

func newPair(t *testing.T, svc *bridge.Service) pair {
	t.Helper()
	c, err := svc.CreateConversation(context.Background(), "backend", "frontend")
	if err != nil {
		t.Fatal(err)
	}
	return pair{
		a: bridge.Caller{ConversationID: c.Conversation.ID, Session: "a", Token: c.TokenA},
		b: bridge.Caller{ConversationID: c.Conversation.ID, Session: "b", Token: c.TokenB},
	}
}

// watchOf waits for the spy to report a watch of exactly topics.
func watchOf(t *testing.T, spy *storetest.Spy, topics ...string) storetest.Watched {
	t.Helper()
	slices.Sort(topics)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case w := <-spy.Watches:
			if slices.Equal(w.Topics, topics) {
				return w
			}
		case <-timeout:
			t.Fatalf("nothing watched %v", topics)
		}
	}
}

// traffic sends a message and a status in p, whose waiters are elsewhere.
func traffic(t *testing.T, svc *bridge.Service, p pair) {
	t.Helper()
	ctx := context.Background()
	if _, err := svc.Send(ctx, p.a, bridge.SendInput{Message: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateStatus(ctx, p.b, "working"); err != nil {
		t.Fatal(err)
	}
}

// A hook waiting for one agent's messages waits on that agent's inbox
// only: traffic in another conversation does not wake it (a store wakes
// this process's waiters before the write returns, so "not woken" is
// checked at once), and a message for it does.
func TestWaitPendingWakesOnlyForItsInbox(t *testing.T) {
	svc, _, spy := spyServices(t, "")
	ctx := context.Background()
	x, y := newPair(t, svc), newPair(t, svc)
	done := make(chan []bridge.Pending, 1)
	go func() {
		ps, err := svc.WaitPending(ctx, bridge.PendingQuery{ConversationID: x.a.ConversationID, Session: "a"}, time.Minute)
		if err != nil {
			t.Error(err)
		}
		done <- ps
	}()
	w := watchOf(t, spy, bridge.InboxTopics(x.a.ConversationID, "a")...)
	traffic(t, svc, y)
	if storetest.Woken(w.Ch) {
		t.Fatal("traffic in another conversation woke the hook")
	}
	if _, err := svc.Send(ctx, x.b, bridge.SendInput{Message: "for a"}); err != nil {
		t.Fatal(err)
	}
	if ps := <-done; len(ps) != 1 || ps[0].Unread != 1 {
		t.Fatalf("pending: %+v", ps)
	}
}

// A hook that finds its agent's sessions by working directory watches
// their inboxes and the endpoints topic: a conversation the agent joins
// while the hook waits is found, other traffic wakes nothing.
func TestWaitPendingByWorkdirFollowsNewSessions(t *testing.T) {
	svc, other, spy := spyServices(t, "/work/project")
	ctx := context.Background()
	x := newPair(t, svc)
	if _, err := svc.UpdateStatus(ctx, x.a, "waiting"); err != nil { // records x/a's endpoint
		t.Fatal(err)
	}
	y := newPair(t, other)
	done := make(chan []bridge.Pending, 1)
	go func() {
		ps, err := svc.WaitPending(ctx, bridge.PendingQuery{Workdir: "/work/project"}, time.Minute)
		if err != nil {
			t.Error(err)
		}
		done <- ps
	}()
	w := watchOf(t, spy, append(bridge.InboxTopics(x.a.ConversationID, "a"), bridge.EndpointsTopic)...)
	traffic(t, other, y)
	if storetest.Woken(w.Ch) {
		t.Fatal("traffic in another conversation woke the hook")
	}
	// The agent joins a new conversation: the hook now watches it too.
	z := newPair(t, other)
	if _, err := svc.UpdateStatus(ctx, z.a, "waiting"); err != nil {
		t.Fatal(err)
	}
	if !storetest.Woken(w.Ch) {
		t.Fatal("a new endpoint did not wake the hook")
	}
	watchOf(t, spy, append(append(bridge.InboxTopics(x.a.ConversationID, "a"), bridge.InboxTopics(z.a.ConversationID, "a")...), bridge.EndpointsTopic)...)
	if _, err := other.Send(ctx, z.b, bridge.SendInput{Message: "for a in z"}); err != nil {
		t.Fatal(err)
	}
	ps := <-done
	found := false
	for _, p := range ps {
		found = found || (p.Conversation.ID == z.a.ConversationID && p.Unread == 1)
	}
	if !found {
		t.Fatalf("pending: %+v", ps)
	}
}

// afterView runs a function once, right after the next read transaction
// ends: between a check's read and its wait.
type afterView struct {
	bridge.Store
	mu   sync.Mutex
	hook func()
}

func (s *afterView) View(ctx context.Context, fn func(bridge.Tx) error) error {
	err := s.Store.View(ctx, fn)
	s.mu.Lock()
	h := s.hook
	s.hook = nil
	s.mu.Unlock()
	if h != nil {
		h()
	}
	return err
}

// A waiting check starts its wait from its own read: a message sent
// between that read and the wait still wakes it (the watch was taken
// before the read), and it is delivered.
func TestWaitWakesForAMessageSentRightAfterItsRead(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := &afterView{Store: db}
	var key token.Key
	key[0] = 7
	cfg := bridge.DefaultConfig()
	cfg.SessionLimits, cfg.CreateLimits, cfg.CreatorLimits = nil, nil, nil
	svc := bridge.NewService(store, key, nil, cfg, nil)
	t.Cleanup(func() { svc.Close() })
	c, err := svc.CreateConversation(ctx, "backend", "frontend")
	if err != nil {
		t.Fatal(err)
	}
	a := bridge.Caller{ConversationID: c.Conversation.ID, Session: "a", Token: c.TokenA}
	b := bridge.Caller{ConversationID: c.Conversation.ID, Session: "b", Token: c.TokenB}
	sent := make(chan error, 1)
	store.mu.Lock()
	store.hook = func() {
		_, err := svc.Send(ctx, a, bridge.SendInput{Message: "right after your read"})
		sent <- err
	}
	store.mu.Unlock()
	const wait = 10 * time.Second
	in, err := svc.CheckMessages(ctx, b, bridge.CheckInput{Wait: wait})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if len(in.Messages) != 1 || in.Messages[0].Body != "right after your read" {
		t.Fatalf("%+v; want the message sent right after the check's read", in.Messages)
	}
	// Woken by the send, not found when the wait ran out.
	if in.Waited >= wait/2 {
		t.Fatalf("the check waited %s of %s: the send did not wake it", in.Waited, wait)
	}
}
