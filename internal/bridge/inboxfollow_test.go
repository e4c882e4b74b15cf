package bridge_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// A follower of an inbox (the channel push) learns that a check_messages
// wait of its process took what changed, so it need not read the inbox
// again; a change no wait takes is left to the follower.
func TestInboxFollowerSkipsWhatAWaitTakes(t *testing.T) {
	svc, _, _ := spyServices(t, "")
	p := newPair(t, svc)
	ctx := context.Background()
	f := svc.FollowInbox(p.b.ConversationID, p.b.Session)
	defer f.Close()

	done := make(chan bridge.Inbox, 1)
	go func() {
		in, err := svc.CheckMessages(ctx, p.b, bridge.CheckInput{Wait: time.Minute})
		if err != nil {
			t.Error(err)
		}
		done <- in
	}()
	for svc.Waiters() == 0 {
		runtime.Gosched()
	}
	ended := f.Changed() // the follower sees a change while b waits
	if ended == nil {
		t.Fatal("Changed reported no wait while b waits in check_messages")
	}
	if _, err := svc.Send(ctx, p.a, bridge.SendInput{Message: "taken by the wait"}); err != nil {
		t.Fatal(err)
	}
	if in := <-done; len(in.Messages) != 1 {
		t.Fatalf("the wait took %d messages", len(in.Messages))
	}
	<-ended
	if !f.Covered() {
		t.Fatal("the wait's take read after the change, but Covered says the follower must read again")
	}

	if _, err := svc.Send(ctx, p.a, bridge.SendInput{Message: "nobody waits"}); err != nil {
		t.Fatal(err)
	}
	if ended := f.Changed(); ended != nil {
		t.Fatal("Changed reported a wait when none runs")
	}
	if f.Covered() {
		t.Fatal("a change no wait took is reported covered: the follower would never push it")
	}
}
