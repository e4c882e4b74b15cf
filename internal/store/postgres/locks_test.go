package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/postgres"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// A transaction held open in one conversation never delays a send in
// another, on any node; a send in the same conversation waits for it.
func TestHeldConversationDelaysOnlyItself(t *testing.T) {
	dsn := newDatabase(t)
	key, err := token.LoadOrCreate(t.TempDir() + "/key")
	if err != nil {
		t.Fatal(err)
	}
	cfg := bridge.DefaultConfig()
	holder, node := open(t, dsn), open(t, dsn) // two nodes
	svc := bridge.NewService(node, key, nil, cfg, nil)
	ctx := context.Background()
	a, b := newConversation(t, svc), newConversation(t, svc)

	// The hook: a write transaction of conversation A on the other node,
	// held open until released.
	release, held := holdLock(t, holder, a.ConversationID)

	bctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := svc.Send(bctx, b, bridge.SendInput{Message: "to B while A is held"}); err != nil {
		t.Fatalf("a send in B while A is held: %v", err)
	}

	sentA := make(chan error, 1)
	go func() {
		_, err := svc.Send(ctx, a, bridge.SendInput{Message: "to A while A is held"})
		sentA <- err
	}()
	// Wait until the send in A is blocked on A's lock, as the server sees it.
	admin := connect(t, dsn)
	for {
		var waiting int
		err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'
			AND query LIKE $1`, fmt.Sprintf("%%pg_advisory_xact_lock(%d)%%", postgres.ChainLockKey(a.ConversationID))).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		select {
		case err := <-sentA:
			t.Fatalf("a send in A completed while A was held: %v", err)
		case <-time.After(5 * time.Millisecond): // poll the server's view
		}
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if err := <-sentA; err != nil {
		t.Fatalf("the send in A after the release: %v", err)
	}
	rep, err := svc.VerifyAudit(ctx, "")
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep.Problems, err)
	}
}

// Writers queued on a busy conversation wait in their process without
// holding a connection, so they cannot use up the pool that another
// conversation's writers need.
func TestQueuedWritersHoldNoConnection(t *testing.T) {
	// One connection for the held transaction, one for the queue's head
	// waiting on the advisory lock, one for the send in B.
	dsn := newDatabase(t) + "&pool_max_conns=3"
	db := open(t, dsn)
	key, err := token.LoadOrCreate(t.TempDir() + "/key")
	if err != nil {
		t.Fatal(err)
	}
	svc := bridge.NewService(db, key, nil, bridge.DefaultConfig(), nil)
	ctx := context.Background()
	a, b := newConversation(t, svc), newConversation(t, svc)
	release, held := holdLock(t, db, a.ConversationID)
	const queued = 4 // more than the pool has room for
	sentA := make(chan error, queued)
	for i := 0; i < queued; i++ {
		go func() {
			_, err := svc.Send(ctx, a, bridge.SendInput{Message: "queued"})
			sentA <- err
		}()
	}
	for postgres.QueuedWriters(db, a.ConversationID) < 1+queued { // the held transaction too
		select {
		case err := <-sentA:
			t.Fatalf("a send in A completed while A was held: %v", err)
		case <-time.After(5 * time.Millisecond): // until every sender queued
		}
	}
	if _, err := svc.Send(ctx, b, bridge.SendInput{Message: "to B past the queue"}); err != nil {
		t.Fatalf("a send in B behind %d queued writers of A: %v", queued, err)
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i := 0; i < queued; i++ {
		if err := <-sentA; err != nil {
			t.Fatalf("a queued send in A: %v", err)
		}
	}
}

// newConversation creates a conversation and returns its creator.
func newConversation(t *testing.T, svc *bridge.Service) bridge.Caller {
	t.Helper()
	c, err := svc.CreateConversation(context.Background(), "backend", "frontend")
	if err != nil {
		t.Fatal(err)
	}
	return bridge.Caller{ConversationID: c.Conversation.ID, Session: "a", Token: c.TokenA}
}

// holdLock opens a write transaction on db that holds conversation
// conv's lock until release is closed; held then reports how it ended.
func holdLock(t *testing.T, db bridge.Store, conv string) (release chan struct{}, held chan error) {
	t.Helper()
	locked := make(chan struct{})
	release, held = make(chan struct{}), make(chan error, 1)
	go func() {
		held <- db.Update(context.Background(), func(tx bridge.Tx) error {
			if err := tx.Lock(conv); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	select {
	case <-locked:
	case err := <-held:
		t.Fatalf("hold the lock of %s: %v", conv, err)
	}
	return release, held
}

// A SyncLater transaction commits without waiting for the WAL flush; every
// other waits as the server is configured (on by default).
func TestSyncLaterTurnsOffSynchronousCommitForItsTransaction(t *testing.T) {
	db := open(t, newDatabase(t))
	ctx := context.Background()
	setting := func(opts ...bridge.UpdateOption) string {
		var v string
		err := db.Update(ctx, func(tx bridge.Tx) error {
			var err error
			v, err = postgres.SynchronousCommit(tx)
			return err
		}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := setting(bridge.SyncLater); v != "off" {
		t.Fatalf("a SyncLater transaction runs with synchronous_commit %s", v)
	}
	if v := setting(); v != "on" {
		t.Fatalf("a transaction after it runs with synchronous_commit %s", v)
	}
}

// Two nodes writing one conversation at once keep its audit chain whole:
// the head a write reads with the conversation (ConversationMembers) is
// read under the conversation's lock.
func TestOneConversationFromTwoNodesKeepsItsChain(t *testing.T) {
	dsn := newDatabase(t)
	key, err := token.LoadOrCreate(t.TempDir() + "/key")
	if err != nil {
		t.Fatal(err)
	}
	cfg := bridge.DefaultConfig()
	cfg.SessionLimits = nil
	svcs := []*bridge.Service{bridge.NewService(open(t, dsn), key, nil, cfg, nil), bridge.NewService(open(t, dsn), key, nil, cfg, nil)}
	ctx := context.Background()
	c, err := svcs[0].CreateConversation(ctx, "backend", "frontend")
	if err != nil {
		t.Fatal(err)
	}
	callers := []bridge.Caller{
		{ConversationID: c.Conversation.ID, Session: "a", Token: c.TokenA},
		{ConversationID: c.Conversation.ID, Session: "b", Token: c.TokenB},
	}
	const perNode = 25
	errs := make(chan error, 2)
	for n := range svcs {
		go func() {
			for i := 0; i < perNode; i++ {
				if _, err := svcs[n].Send(ctx, callers[n], bridge.SendInput{Message: fmt.Sprint("m", i)}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range svcs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	rep, err := svcs[1].VerifyAudit(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Checked < 2*perNode {
		t.Fatalf("%d rows checked; problems %+v", rep.Checked, rep.Problems)
	}
}
