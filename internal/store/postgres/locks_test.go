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
	var convs [2]bridge.Caller
	for i := range convs {
		c, err := svc.CreateConversation(ctx, "backend", "frontend")
		if err != nil {
			t.Fatal(err)
		}
		convs[i] = bridge.Caller{ConversationID: c.Conversation.ID, Session: "a", Token: c.TokenA}
	}
	a, b := convs[0], convs[1]

	// The hook: a write transaction of conversation A on the other node,
	// held open until released.
	locked, release, held := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		held <- holder.Update(ctx, func(tx bridge.Tx) error {
			if err := tx.Lock(a.ConversationID); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked

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
