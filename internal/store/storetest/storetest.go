// Package storetest is the behaviour every bridge.Store must show, as one
// suite: the SQLite store runs it always, and any other store (PostgreSQL)
// runs the same tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// NewDB creates an empty database for one test and returns a function that
// opens a handle to it; handles stand for separate processes.
type NewDB func(t *testing.T) (open func(t *testing.T) bridge.Store)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// Run runs the suite.
func Run(t *testing.T, newDB NewDB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) bridge.Store)
	}{
		{"TakeUnreadExactlyOnceAcrossHandles", takeUnreadExactlyOnce},
		{"DeleteExpiredKeepsAudit", deleteExpiredKeepsAudit},
		{"AuditLimitKeepsNewestInOrder", auditLimit},
		{"DeleteAuditPrunesOneChain", deleteAudit},
		{"ChainLocksInOrder", lockOrder},
		{"RowMACsRoundTrip", rowMACs},
		{"CleanupForgetsOldRateEvents", cleanupForgetsOldRateEvents},
		{"RateEventsForgottenWhenAsked", rateEventsForgottenWhenAsked},
		{"ViewIsReadOnly", viewIsReadOnly},
		{"WatchWakesOtherHandles", watchWakesOtherHandles},
		{"WatchWakesOnlyItsTopics", watchWakesOnlyItsTopics},
		{"ReceiptHistoryAndTouch", receiptHistoryTouch},
		{"SilenceReportedOnce", silenceReportedOnce},
		{"ImportedIDsAreKeptOrRefused", importedIDs},
		{"FailedUpdateLeavesNothing", failedUpdateLeavesNothing},
		{"ApprovalsRoundTripAndFilter", approvalsRoundTrip},
		{"MembersJoinLeaveRejoin", membersRoundTrip},
		{"InvitesRedeemedOnceAcrossHandles", invitesRoundTrip},
		{"BroadcastFansOutOncePerMember", broadcastFanOut},
		{"TakeUnreadPagesAndCounts", takeUnreadPages},
		{"EndedSessionsSharedUntilExpiry", endedSessions},
		{"ImportMessageDeliversAsTold", importMessageDelivers},
		{"TasksClaimOnceAndGoStalePerEpisode", tasksClaimAndStale},
		{"LeasesLiveRenewedAndCleanedUp", leasesLiveAndCleanup},
		{"WriteAfterReadingAConversation", writeAfterReadingConversation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newDB(t)) })
	}
}

func update(t *testing.T, s bridge.Store, fn func(bridge.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, s bridge.Store, fn func(bridge.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// addConversation adds a conversation with members a and b, and any more
// members named.
func addConversation(t *testing.T, s bridge.Store, id string, expires time.Time, more ...bridge.Member) {
	t.Helper()
	update(t, s, func(tx bridge.Tx) error {
		if err := tx.CreateConversation(bridge.Conversation{ID: id, RoleA: "backend", RoleB: "frontend", CreatedAt: t0, ExpiresAt: expires}); err != nil {
			return err
		}
		for i, m := range append([]bridge.Member{"a", "b"}, more...) {
			gen := 0
			if i >= 2 {
				gen = 1
			}
			if err := tx.AddMember(bridge.Membership{ConversationID: id, Member: m, Role: "role of " + string(m), Generation: gen, JoinedAt: t0.Add(time.Duration(i) * time.Millisecond)}); err != nil {
				return err
			}
		}
		return nil
	})
}

func addMessage(tx bridge.Tx, conv string, from bridge.Session, body string) error {
	return tx.AddMessage(&bridge.Message{ConversationID: conv, From: from, ActionType: "info", Body: body, CreatedAt: t0})
}

func takeUnreadExactlyOnce(t *testing.T, open func(t *testing.T) bridge.Store) {
	h1, h2 := open(t), open(t)
	const conv, n = "conv_00000000000000aa", 300
	addConversation(t, h1, conv, t0.Add(time.Hour))
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := map[int64]int{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			if err := h1.Update(context.Background(), func(tx bridge.Tx) error {
				if err := tx.Lock(conv); err != nil {
					return err
				}
				return addMessage(tx, conv, "a", fmt.Sprint(i))
			}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for g := 0; g < 6; g++ {
		s := []bridge.Store{h1, h2}[g%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
				var got []bridge.Message
				err := s.Update(context.Background(), func(tx bridge.Tx) (err error) {
					if err := tx.Lock(conv); err != nil {
						return err
					}
					got, err = tx.TakeUnread(conv, "b", t0, 1000)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for i, m := range got {
					taken[m.ID]++
					if i > 0 && m.ID <= got[i-1].ID {
						t.Errorf("not oldest first: %d after %d", m.ID, got[i-1].ID)
					}
				}
				done := len(taken) == n
				mu.Unlock()
				if done {
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(taken) != n {
		t.Fatalf("%d of %d messages taken", len(taken), n)
	}
	for id, c := range taken {
		if c != 1 {
			t.Fatalf("message %d taken %d times", id, c)
		}
	}
	update(t, h2, func(tx bridge.Tx) error {
		got, err := tx.TakeUnread(conv, "a", t0, 1000)
		if len(got) != 0 {
			t.Errorf("the sender received its own messages")
		}
		return err
	})
}

func deleteExpiredKeepsAudit(t *testing.T, open func(t *testing.T) bridge.Store) {
	db := open(t)
	old, live := "conv_000000000000000e", "conv_000000000000000f"
	addConversation(t, db, old, t0.Add(time.Minute))
	addConversation(t, db, live, t0.Add(time.Hour))
	update(t, db, func(tx bridge.Tx) error {
		for _, c := range []string{old, live} {
			if err := addMessage(tx, c, "a", "x"); err != nil {
				return err
			}
			if err := tx.SetState(c, "b", "working", t0); err != nil {
				return err
			}
			if err := tx.AddRequest(c+"/a", c, t0, t0.Add(-time.Hour)); err != nil {
				return err
			}
		}
		return tx.AppendAudit(bridge.AuditEntry{Seq: 1, At: t0, Tool: "send_to_partner", ConversationID: old, Outcome: "ok", PrevDigest: "p", Digest: "d"})
	})
	var got bridge.Cleanup
	update(t, db, func(tx bridge.Tx) (err error) {
		got, err = tx.DeleteExpired(t0.Add(2 * time.Minute))
		return err
	})
	if got != (bridge.Cleanup{Conversations: 1, Messages: 1, Statuses: 2}) {
		t.Fatalf("cleanup %+v", got)
	}
	view(t, db, func(tx bridge.Tx) error {
		if _, err := tx.Conversation(old); !bridge.IsNotFound(err) {
			t.Errorf("expired conversation still there: %v", err)
		}
		if msgs, _ := tx.Messages(live); len(msgs) != 1 {
			t.Errorf("live conversation lost messages")
		}
		if ts, _ := tx.RequestTimes(old+"/a", t0.Add(-time.Hour)); len(ts) != 0 {
			t.Errorf("rate events of a removed conversation kept")
		}
		if rows, _ := tx.Audit(bridge.AuditFilter{}); len(rows) != 1 {
			t.Errorf("audit rows: %d", len(rows))
		}
		return nil
	})
}

func auditLimit(t *testing.T, open func(t *testing.T) bridge.Store) {
	db := open(t)
	update(t, db, func(tx bridge.Tx) error {
		for i := int64(1); i <= 5; i++ {
			if err := tx.AppendAudit(bridge.AuditEntry{Seq: i, At: t0.Add(time.Duration(i) * time.Second), Tool: "t", Outcome: "ok", PrevDigest: "p", Digest: fmt.Sprint(i)}); err != nil {
				return err
			}
		}
		// Within the transaction, the head is the row just appended.
		if seq, digest, err := tx.LastAudit(""); err != nil || seq != 5 || digest != "5" {
			t.Errorf("global head inside the appending transaction: %d %s %v", seq, digest, err)
		}
		// Another chain numbers its rows from 1 again.
		return tx.AppendAudit(bridge.AuditEntry{Chain: "conv_0000000000000001", Seq: 1, At: t0.Add(10 * time.Second), Tool: "t", Outcome: "ok", Refs: "m:7", PrevDigest: "p", Digest: "c1"})
	})
	// Pruning inside a transaction that appended: the head stays the
	// newest stored row (rolled back, so the checks below see 5 rows).
	errRollback := errors.New("roll back")
	if err := db.Update(context.Background(), func(tx bridge.Tx) error {
		if err := tx.AppendAudit(bridge.AuditEntry{Seq: 6, At: t0.Add(6 * time.Second), Tool: "t", Outcome: "ok", PrevDigest: "5", Digest: "6"}); err != nil {
			return err
		}
		if _, err := tx.DeleteAudit("", 5); err != nil {
			return err
		}
		if seq, digest, err := tx.LastAudit(""); err != nil || seq != 6 || digest != "6" {
			t.Errorf("global head after a prune in the same transaction: %d %s %v", seq, digest, err)
		}
		return errRollback
	}); err != errRollback {
		t.Fatalf("update: %v", err)
	}
	view(t, db, func(tx bridge.Tx) error {
		rows, err := tx.Audit(bridge.AuditFilter{Limit: 2})
		if err != nil || len(rows) != 2 || rows[0].Seq != 5 || rows[1].Chain != "conv_0000000000000001" || rows[1].Refs != "m:7" {
			t.Errorf("last 2 rows: %+v %v", rows, err)
		}
		seq, digest, _ := tx.LastAudit("")
		if seq != 5 || digest != "5" {
			t.Errorf("global head %d %s", seq, digest)
		}
		if seq, digest, _ := tx.LastAudit("conv_0000000000000001"); seq != 1 || digest != "c1" {
			t.Errorf("conversation head %d %s", seq, digest)
		}
		if seq, _, _ := tx.LastAudit("conv_0000000000000002"); seq != 0 {
			t.Errorf("an empty chain's head: %d", seq)
		}
		var order []string
		err = tx.EachAudit(nil, func(e bridge.AuditEntry) error {
			order = append(order, fmt.Sprintf("%s/%d", e.Chain, e.Seq))
			return nil
		})
		if want := "[/1 /2 /3 /4 /5 conv_0000000000000001/1]"; err != nil || fmt.Sprint(order) != want {
			t.Errorf("every chain in order: %v %v, want %s", order, err, want)
		}
		global, n := "", 0
		if err := tx.EachAudit(&global, func(e bridge.AuditEntry) error { n++; return nil }); err != nil || n != 5 {
			t.Errorf("the global chain alone: %d rows, %v", n, err)
		}
		return nil
	})
	// (chain, seq) is unique.
	if err := db.Update(context.Background(), func(tx bridge.Tx) error {
		return tx.AppendAudit(bridge.AuditEntry{Chain: "conv_0000000000000001", Seq: 1, At: t0, Tool: "t", Outcome: "ok", PrevDigest: "p", Digest: "x"})
	}); err == nil {
		t.Error("a chain took the same sequence number twice")
	}
}

func deleteAudit(t *testing.T, open func(t *testing.T) bridge.Store) {
	db := open(t)
	const conv = "conv_0000000000000001"
	update(t, db, func(tx bridge.Tx) error {
		for i := int64(1); i <= 4; i++ {
			for _, chain := range []string{"", conv} {
				if err := tx.AppendAudit(bridge.AuditEntry{Chain: chain, Seq: i, At: t0.Add(time.Duration(i) * time.Hour), Tool: "t", Outcome: "ok", PrevDigest: "p", Digest: fmt.Sprint(i)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	update(t, db, func(tx bridge.Tx) error {
		if n, err := tx.DeleteAudit(conv, 2); err != nil || n != 2 {
			t.Errorf("delete through row 2: %d, %v", n, err)
		}
		if n, err := tx.DeleteAudit(conv, 2); err != nil || n != 0 {
			t.Errorf("delete again: %d, %v", n, err)
		}
		return nil
	})
	view(t, db, func(tx bridge.Tx) error {
		var left []string
		tx.EachAudit(nil, func(e bridge.AuditEntry) error { left = append(left, fmt.Sprintf("%s/%d", e.Chain, e.Seq)); return nil })
		if want := "[/1 /2 /3 /4 " + conv + "/3 " + conv + "/4]"; fmt.Sprint(left) != want {
			t.Errorf("after pruning one chain: %v, want %s", left, want)
		}
		return nil
	})
}

// Chain locks are taken in ascending order, the global chain first; a
// lock asked for out of order is refused rather than risking a deadlock.
func lockOrder(t *testing.T, open func(t *testing.T) bridge.Store) {
	db := open(t)
	update(t, db, func(tx bridge.Tx) error {
		if err := tx.Lock("", "conv_0000000000000002", "conv_0000000000000001"); err != nil {
			t.Errorf("locks in one call: %v", err)
		}
		if err := tx.Lock("conv_0000000000000001"); err != nil {
			t.Errorf("a held lock again: %v", err)
		}
		if err := tx.Lock("conv_0000000000000003"); err != nil {
			t.Errorf("a later lock: %v", err)
		}
		return nil
	})
	err := db.Update(context.Background(), func(tx bridge.Tx) error {
		if err := tx.Lock("conv_0000000000000001"); err != nil {
			return err
		}
		return tx.Lock("")
	})
	if err == nil || !strings.Contains(err.Error(), "ascending order") {
		t.Errorf("the global lock after a conversation's: %v", err)
	}
}

// Rows keep the MACs they were written with; ids can be reserved first so
// a MAC can cover them; a fresh store has no legacy rows to seal.
func rowMACs(t *testing.T, open func(t *testing.T) bridge.Store) {
	db := open(t)
	const conv = "conv_00000000000000a1"
	addConversation(t, db, conv, t0.Add(time.Hour))
	var id int64
	update(t, db, func(tx bridge.Tx) error {
		var err error
		if id, err = tx.NextMessageID(); err != nil {
			return err
		}
		m := bridge.Message{ID: id, ConversationID: conv, From: "a", To: "b", ActionType: "info", Body: "x", CreatedAt: t0, MAC: "msgmac"}
		if err := tx.AddMessage(&m); err != nil || m.ID != id {
			t.Errorf("add with a reserved id: %d %v", m.ID, err)
		}
		if err := tx.AddMember(bridge.Membership{ConversationID: conv, Member: "w", Role: "worker", Generation: 1, JoinedAt: t0, MAC: "membermac"}); err != nil {
			return err
		}
		if err := tx.RemoveMember(conv, "w", t0.Add(time.Minute), "leftmac"); err != nil {
			return err
		}
		if err := tx.AddInvite(bridge.Invite{CodeHash: "h1", ConversationID: conv, Role: "r", CreatedBy: "a", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), MAC: "invmac"}); err != nil {
			return err
		}
		if ok, err := tx.RedeemInvite("h1", "w", t0.Add(time.Minute), "redeemedmac"); !ok || err != nil {
			t.Errorf("redeem: %v %v", ok, err)
		}
		next, err := tx.NextMessageID()
		if err != nil || next <= id {
			t.Errorf("next id %d after %d: %v", next, id, err)
		}
		return nil
	})
	view(t, db, func(tx bridge.Tx) error {
		if h, _ := tx.History(conv, "b", 0, time.Time{}, 10); len(h) != 1 || h[0].MAC != "msgmac" || h[0].ID != id {
			t.Errorf("message MAC: %+v", h)
		}
		if m, _ := tx.Member(conv, "w"); m.MAC != "leftmac" || m.LeftAt.IsZero() {
			t.Errorf("member MAC after leaving: %+v", m)
		}
		if invs, err := tx.Invites(conv); err != nil || len(invs) != 1 || invs[0].MAC != "redeemedmac" || invs[0].RedeemedBy != "w" {
			t.Errorf("invites: %+v %v", invs, err)
		}
		if p, err := tx.LegacyPending(); p || err != nil {
			t.Errorf("a fresh store has legacy rows pending: %v %v", p, err)
		}
		return nil
	})
}

func cleanupForgetsOldRateEvents(t *testing.T, open func(t *testing.T) bridge.Store) {
	db := open(t)
	const subject = "create_conversation/host 10.0.0.9"
	update(t, db, func(tx bridge.Tx) error {
		if err := tx.AddRequest(subject, "", t0, t0.Add(-time.Hour)); err != nil {
			return err
		}
		return tx.AddRequest(subject, "", t0.Add(bridge.RateMemory), t0)
	})
	update(t, db, func(tx bridge.Tx) error {
		_, err := tx.DeleteExpired(t0.Add(bridge.RateMemory + time.Minute))
		return err
	})
	view(t, db, func(tx bridge.Tx) error {
		times, err := tx.RequestTimes(subject, t0.Add(-time.Hour))
		if err != nil || len(times) != 1 || !times[0].Equal(t0.Add(bridge.RateMemory)) {
			t.Errorf("after cleanup: %v %v; want only the event younger than RateMemory", times, err)
		}
		return nil
	})
}

func rateEventsForgottenWhenAsked(t *testing.T, open func(t *testing.T) bridge.Store) {
	db := open(t)
	const subject = "conv_0000000000000c01/a"
	update(t, db, func(tx bridge.Tx) error {
		if err := tx.AddRequest(subject, "", t0, t0.Add(-time.Hour)); err != nil {
			return err
		}
		// A zero forgetBefore forgets nothing.
		return tx.AddRequest(subject, "", t0.Add(2*time.Hour), time.Time{})
	})
	view(t, db, func(tx bridge.Tx) error {
		if times, err := tx.RequestTimes(subject, t0.Add(-time.Hour)); err != nil || len(times) != 2 {
			t.Errorf("after an add that forgets nothing: %v %v; want both events", times, err)
		}
		return nil
	})
	update(t, db, func(tx bridge.Tx) error { return tx.AddRequest(subject, "", t0.Add(3*time.Hour), t0.Add(time.Hour)) })
	view(t, db, func(tx bridge.Tx) error {
		times, err := tx.RequestTimes(subject, t0.Add(-time.Hour))
		if err != nil || len(times) != 2 || !times[0].Equal(t0.Add(2*time.Hour)) {
			t.Errorf("after an add that forgets before t0+1h: %v %v; want the two younger events", times, err)
		}
		return nil
	})
}

func viewIsReadOnly(t *testing.T, open func(t *testing.T) bridge.Store) {
	db := open(t)
	err := db.View(context.Background(), func(tx bridge.Tx) error {
		return tx.CreateConversation(bridge.Conversation{ID: "conv_0000000000000009", CreatedAt: t0, ExpiresAt: t0})
	})
	if err == nil {
		t.Fatal("a write succeeded in a read-only transaction")
	}
}

// A write through one handle wakes waiters of its topics on another by an
// event, not by a store's slow fallback timer (at least 2 s), and the write
// is visible when they wake.
func watchWakesOtherHandles(t *testing.T, open func(t *testing.T) bridge.Store) {
	h1, h2 := open(t), open(t)
	const conv = "conv_0000000000000001"
	addConversation(t, h1, conv, t0.Add(time.Hour))
	// A store may wake everyone once when it starts listening: one
	// delivered topic shows that is behind us.
	warm, stopWarm := h1.Watch("warm-up")
	defer stopWarm()
	update(t, h2, func(tx bridge.Tx) error { tx.Signal("warm-up"); return nil })
	<-warm
	for round := 0; round < 5; round++ {
		ch, stop := h1.Watch(bridge.ConversationTopic(conv))
		update(t, h2, func(tx bridge.Tx) error {
			tx.Signal(bridge.ConversationTopic(conv))
			return addMessage(tx, conv, "a", fmt.Sprint(round))
		})
		select {
		case <-ch:
		case <-time.After(1500 * time.Millisecond):
			t.Fatalf("round %d: no wake-up from the write", round)
		}
		stop()
		view(t, h1, func(tx bridge.Tx) error {
			n, err := tx.UnreadCount(conv, "b")
			if n != round+1 {
				t.Errorf("round %d: woke before the write was visible (%d unread)", round, n)
			}
			return err
		})
	}
}

// A write that raises a topic wakes that topic's waiters on another handle
// (another process) by an event, and no waiter of another topic; a rolled
// back write raises nothing.
func watchWakesOnlyItsTopics(t *testing.T, open func(t *testing.T) bridge.Store) {
	h1, h2 := open(t), open(t)
	const conv = "conv_0000000000000001"
	addConversation(t, h1, conv, t0.Add(time.Hour))
	isClosed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	wait := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(1500 * time.Millisecond): // under the fallback timers
			t.Fatalf("%s: no wake-up from the write", what)
		}
	}
	// Warm up: a store may wake everyone once when it starts listening
	// (PostgreSQL does, for writes made before LISTEN took effect); one
	// delivered topic shows that is behind us.
	warm, stopWarm := h1.Watch("warm-up")
	update(t, h2, func(tx bridge.Tx) error { tx.Signal("warm-up"); return nil })
	wait(warm, "warm-up")
	defer stopWarm()
	// A store's slow fallback timer may wake every waiter at any moment,
	// rarely; a wrong wake-up by the write itself happens every time. So a
	// round whose waiter on a was woken is tried again, and only a round
	// woken three times in a row fails.
	unread := 0
	for round := 0; round < 3; round++ {
		woken := 0
		for attempt := 0; attempt < 3; attempt++ {
			a, stopA := h1.Watch(bridge.InboxTopic(conv, "a"))
			b, stopB := h1.Watch(bridge.InboxTopic(conv, "b"))
			c, stopC := h1.Watch(bridge.ConversationTopic(conv))
			// Rolled back: raises nothing.
			h2.Update(context.Background(), func(tx bridge.Tx) error {
				tx.Signal(bridge.InboxTopic(conv, "b"))
				return fmt.Errorf("roll back")
			})
			update(t, h2, func(tx bridge.Tx) error {
				tx.Signal(bridge.InboxTopic(conv, "b"))
				return addMessage(tx, conv, "a", fmt.Sprint(round))
			})
			unread++
			wait(b, fmt.Sprintf("round %d, inbox of b", round))
			view(t, h1, func(tx bridge.Tx) error {
				if n, _ := tx.UnreadCount(conv, "b"); n != unread {
					t.Errorf("round %d: woke before the write was visible (%d unread, want %d)", round, n, unread)
				}
				return nil
			})
			// A later write to another topic: once its waiter woke, a wrong
			// wake-up of a by the first write would have come already.
			update(t, h2, func(tx bridge.Tx) error {
				tx.Signal(bridge.ConversationTopic(conv))
				return nil
			})
			wait(c, fmt.Sprintf("round %d, conversation", round))
			wrong := isClosed(a)
			stopA()
			stopB()
			stopC()
			if !wrong {
				break
			}
			woken++
		}
		if woken == 3 {
			t.Fatalf("round %d: a write for b woke a waiter on a's inbox, three times in a row", round)
		}
	}
}

func receiptHistoryTouch(t *testing.T, open func(t *testing.T) bridge.Store) {
	db := open(t)
	const conv = "conv_0000000000000002"
	addConversation(t, db, conv, t0.Add(time.Hour))
	update(t, db, func(tx bridge.Tx) error {
		for i := 0; i < 3; i++ {
			if err := addMessage(tx, conv, "a", fmt.Sprint(i)); err != nil {
				return err
			}
		}
		if _, err := tx.TakeUnread(conv, "b", t0.Add(time.Minute), 100); err != nil {
			return err
		}
		if err := addMessage(tx, conv, "a", "3"); err != nil {
			return err
		}
		if err := tx.Touch(conv, "a", t0.Add(2*time.Minute)); err != nil {
			return err
		}
		if err := tx.SetState(conv, "b", "working", t0); err != nil {
			return err
		}
		return tx.Touch(conv, "b", t0.Add(3*time.Minute))
	})
	view(t, db, func(tx bridge.Tx) error {
		r, err := tx.Receipt(conv, "a", "")
		if err != nil || r.Unread != 1 || r.LastReadID == 0 || !r.LastReadAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("receipt %+v %v", r, err)
		}
		all, _ := tx.History(conv, "b", 0, time.Time{}, 10)
		page, _ := tx.History(conv, "b", all[1].ID, time.Time{}, 1)
		if len(all) != 4 || len(page) != 1 || page[0].ID != all[2].ID || !all[3].ReadAt.IsZero() {
			t.Errorf("history %d messages, page %+v", len(all), page)
		}
		peek, _ := tx.PeekUnread(conv, "b", 100)
		if len(peek) != 1 || peek[0].Body != "3" {
			t.Errorf("peek %+v", peek)
		}
		a, _ := tx.State(conv, "a")
		b, _ := tx.State(conv, "b")
		if a.Status != bridge.StatusUnknown || !a.Heartbeat.Equal(t0.Add(2*time.Minute)) || b.Status != "working" || !b.Heartbeat.Equal(t0.Add(3*time.Minute)) {
			t.Errorf("touch: a %+v, b %+v", a, b)
		}
		return nil
	})
}

func silenceReportedOnce(t *testing.T, open func(t *testing.T) bridge.Store) {
	h1, h2 := open(t), open(t)
	const conv = "conv_0000000000000003"
	addConversation(t, h1, conv, t0.Add(time.Hour))
	var fresh int
	for _, s := range []bridge.Store{h1, h2, h1} {
		update(t, s, func(tx bridge.Tx) error {
			ok, err := tx.OpenSilence(conv, "b", t0, t0.Add(10*time.Minute))
			if ok {
				fresh++
			}
			return err
		})
	}
	if fresh != 1 {
		t.Fatalf("one silence opened %d times", fresh)
	}
	var closed int
	update(t, h2, func(tx bridge.Tx) (err error) {
		closed, err = tx.CloseSilences(conv, "b", t0.Add(11*time.Minute), t0.Add(11*time.Minute))
		return err
	})
	update(t, h1, func(tx bridge.Tx) error {
		n, err := tx.CloseSilences(conv, "b", t0.Add(11*time.Minute), t0.Add(12*time.Minute))
		closed += n
		return err
	})
	if closed != 1 {
		t.Fatalf("one silence closed %d times", closed)
	}
}

func importedIDs(t *testing.T, open func(t *testing.T) bridge.Store) {
	db := open(t)
	const conv = "conv_0000000000000004"
	addConversation(t, db, conv, t0.Add(time.Hour))
	update(t, db, func(tx bridge.Tx) error {
		m := bridge.Message{ID: 77, ConversationID: conv, From: "a", ActionType: "info", Body: "kept", CreatedAt: t0, ReadAt: t0.Add(time.Second)}
		if err := tx.AddMessage(&m); err != nil || m.ID != 77 {
			t.Errorf("explicit id: %d %v", m.ID, err)
		}
		return nil
	})
	err := db.Update(context.Background(), func(tx bridge.Tx) error {
		return tx.AddMessage(&bridge.Message{ID: 77, ConversationID: conv, From: "a", ActionType: "info", Body: "dup", CreatedAt: t0})
	})
	if err == nil {
		t.Fatal("a taken message id was accepted")
	}
	view(t, db, func(tx bridge.Tx) error {
		msgs, _ := tx.Messages(conv)
		if len(msgs) != 1 || msgs[0].Body != "kept" || !msgs[0].ReadAt.Equal(t0.Add(time.Second)) {
			t.Errorf("messages %+v", msgs)
		}
		return nil
	})
}

func failedUpdateLeavesNothing(t *testing.T, open func(t *testing.T) bridge.Store) {
	db := open(t)
	const conv = "conv_0000000000000005"
	boom := fmt.Errorf("refused")
	err := db.Update(context.Background(), func(tx bridge.Tx) error {
		if err := tx.CreateConversation(bridge.Conversation{ID: conv, RoleA: "x", RoleB: "y", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			return err
		}
		if err := addMessage(tx, conv, "a", "partial"); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update returned %v", err)
	}
	view(t, db, func(tx bridge.Tx) error {
		if _, err := tx.Conversation(conv); !bridge.IsNotFound(err) {
			t.Errorf("a failed transaction left its conversation: %v", err)
		}
		return nil
	})
}

// approvalsRoundTrip: every field survives the store (times at millisecond
// precision), filters select by conversation, session, kind and state, and
// approvals go with their conversation.
func approvalsRoundTrip(t *testing.T, open func(t *testing.T) bridge.Store) {
	h1, h2 := open(t), open(t)
	conv, other := "conv_0000000000000a01", "conv_0000000000000a02"
	addConversation(t, h1, conv, t0.Add(time.Hour))
	addConversation(t, h1, other, t0.Add(time.Minute))
	enable := bridge.Approval{
		ID: "appr_00000000000000e1", Kind: bridge.KindEnable, ConversationID: conv, Session: "a",
		Mode: "restricted", Workspace: "/work/ws", Timeout: 30 * time.Second, Sandbox: true,
		Origin: "host:/work/ws", State: bridge.ApprovalPending,
		CreatedAt: t0.Add(1500 * time.Microsecond), ExpiresAt: t0.Add(10 * time.Minute),
	}
	command := bridge.Approval{
		ID: "appr_00000000000000c1", Kind: bridge.KindCommand, ConversationID: conv, Session: "a",
		Mode: "yolo", Workspace: "/work/ws", Timeout: 2 * time.Second,
		Command: "make test", CommandHash: "ab12", EnablementID: enable.ID,
		State: bridge.ApprovalPending, CreatedAt: t0.Add(time.Second), ExpiresAt: t0.Add(10 * time.Minute),
	}
	elsewhere := bridge.Approval{
		ID: "appr_00000000000000b1", Kind: bridge.KindEnable, ConversationID: other, Session: "b",
		Mode: "safe", Workspace: "/w", Timeout: time.Second, State: bridge.ApprovalPending,
		CreatedAt: t0.Add(2 * time.Second), ExpiresAt: t0.Add(10 * time.Minute),
	}
	update(t, h1, func(tx bridge.Tx) error {
		for _, a := range []bridge.Approval{enable, command, elsewhere} {
			if err := tx.AddApproval(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err := h2.Update(context.Background(), func(tx bridge.Tx) error { return tx.AddApproval(enable) }); err == nil {
		t.Error("a second approval with the same id was stored")
	}

	enable.DecidedAt, enable.State, enable.DecidedBy = t0.Add(3*time.Second), bridge.ApprovalApproved, "terminal alice"
	update(t, h2, func(tx bridge.Tx) error { return tx.SaveApproval(enable) })
	enable.CreatedAt = enable.CreatedAt.Truncate(time.Millisecond)
	view(t, h1, func(tx bridge.Tx) error {
		got, err := tx.Approval(enable.ID)
		if err != nil {
			return err
		}
		if got != enable {
			t.Errorf("approval read back\n got %+v\nwant %+v", got, enable)
		}
		if _, err := tx.Approval("appr_0000000000000000"); !bridge.IsNotFound(err) {
			t.Errorf("unknown approval: got %v, want not found", err)
		}
		for _, c := range []struct {
			f    bridge.ApprovalFilter
			want []string
		}{
			{bridge.ApprovalFilter{}, []string{enable.ID, command.ID, elsewhere.ID}},
			{bridge.ApprovalFilter{ConversationID: conv}, []string{enable.ID, command.ID}},
			{bridge.ApprovalFilter{ConversationID: conv, Session: "b"}, nil},
			{bridge.ApprovalFilter{Kind: bridge.KindCommand}, []string{command.ID}},
			{bridge.ApprovalFilter{States: []string{bridge.ApprovalApproved, bridge.ApprovalActive}}, []string{enable.ID}},
			{bridge.ApprovalFilter{ConversationID: conv, Session: "a", Kind: bridge.KindEnable, States: []string{bridge.ApprovalPending}}, nil},
		} {
			got, err := tx.Approvals(c.f)
			if err != nil {
				return err
			}
			var ids []string
			for _, a := range got {
				ids = append(ids, a.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(c.want) {
				t.Errorf("Approvals(%+v) = %v, want %v", c.f, ids, c.want)
			}
		}
		return nil
	})
	if err := h1.Update(context.Background(), func(tx bridge.Tx) error {
		return tx.SaveApproval(bridge.Approval{ID: "appr_0000000000000000", ExpiresAt: t0})
	}); !bridge.IsNotFound(err) {
		t.Errorf("saving an unknown approval: got %v, want not found", err)
	}
	update(t, h1, func(tx bridge.Tx) error { _, err := tx.DeleteExpired(t0.Add(5 * time.Minute)); return err })
	view(t, h2, func(tx bridge.Tx) error {
		if _, err := tx.Approval(elsewhere.ID); !bridge.IsNotFound(err) {
			t.Errorf("approval of a removed conversation: got %v, want not found", err)
		}
		return nil
	})
}

func membersRoundTrip(t *testing.T, open func(t *testing.T) bridge.Store) {
	h1, h2 := open(t), open(t)
	const conv = "conv_0000000000000b01"
	addConversation(t, h1, conv, t0.Add(time.Hour), "worker-1")
	update(t, h2, func(tx bridge.Tx) error {
		if err := tx.SetState(conv, "worker-1", "working", t0.Add(time.Second)); err != nil {
			return err
		}
		return tx.RemoveMember(conv, "worker-1", t0.Add(time.Minute), "")
	})
	view(t, h1, func(tx bridge.Tx) error {
		m, err := tx.Member(conv, "worker-1")
		if err != nil {
			return err
		}
		if m.Active() || !m.LeftAt.Equal(t0.Add(time.Minute)) || m.Generation != 1 || m.Status != "working" || m.Role != "role of worker-1" {
			t.Errorf("removed member %+v", m)
		}
		if _, err := tx.Member(conv, "nobody"); !bridge.IsNotFound(err) {
			t.Errorf("unknown member: got %v, want not found", err)
		}
		all, err := tx.Members(conv)
		if err != nil || len(all) != 3 || all[0].Member != "a" || all[2].Member != "worker-1" {
			t.Errorf("members %+v %v", all, err)
		}
		if !all[0].Heartbeat.IsZero() || all[0].Status != bridge.StatusUnknown {
			t.Errorf("a member that never called: %+v", all[0])
		}
		// The conversation and its members in one read: the same rows.
		c, both, err := tx.ConversationMembers(conv)
		if want, _ := tx.Conversation(conv); err != nil || c != want || !reflect.DeepEqual(both, all) {
			t.Errorf("conversation and members:\n%+v %+v %v\nwant\n%+v %+v", c, both, err, want, all)
		}
		if _, _, err := tx.ConversationMembers("conv_000000000000dead"); !bridge.IsNotFound(err) {
			t.Errorf("unknown conversation: got %v, want not found", err)
		}
		return nil
	})
	// A conversation without members still reads, with none.
	const empty = "conv_0000000000000b0e"
	update(t, h1, func(tx bridge.Tx) error {
		return tx.CreateConversation(bridge.Conversation{ID: empty, RoleA: "x", RoleB: "y", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	})
	view(t, h2, func(tx bridge.Tx) error {
		if c, ms, err := tx.ConversationMembers(empty); err != nil || c.ID != empty || !c.ExpiresAt.Equal(t0.Add(time.Hour)) || len(ms) != 0 {
			t.Errorf("a conversation without members: %+v %+v %v", c, ms, err)
		}
		return nil
	})
	// A rejoin readmits the member under a new generation and role.
	update(t, h2, func(tx bridge.Tx) error {
		return tx.AddMember(bridge.Membership{ConversationID: conv, Member: "worker-1", Role: "reviewer", Generation: 2, JoinedAt: t0.Add(2 * time.Minute), Heartbeat: t0.Add(2 * time.Minute)})
	})
	view(t, h1, func(tx bridge.Tx) error {
		m, err := tx.Member(conv, "worker-1")
		if err != nil || !m.Active() || m.Generation != 2 || m.Role != "reviewer" || m.Status != bridge.StatusUnknown || !m.Heartbeat.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("rejoined member %+v %v", m, err)
		}
		return nil
	})
}

func invitesRoundTrip(t *testing.T, open func(t *testing.T) bridge.Store) {
	h1, h2 := open(t), open(t)
	const conv = "conv_0000000000000b02"
	addConversation(t, h1, conv, t0.Add(time.Hour))
	inv := bridge.Invite{CodeHash: "hash-1", ConversationID: conv, Member: "worker-1", Role: "tester", CreatedBy: "a",
		CreatedAt: t0.Add(1500 * time.Microsecond), ExpiresAt: t0.Add(30 * time.Minute)}
	open2 := bridge.Invite{CodeHash: "hash-2", ConversationID: conv, Role: "anyone", CreatedBy: "b", CreatedAt: t0.Add(time.Second), ExpiresAt: t0.Add(time.Hour)}
	update(t, h1, func(tx bridge.Tx) error {
		if err := tx.AddInvite(inv); err != nil {
			return err
		}
		return tx.AddInvite(open2)
	})
	if err := h2.Update(context.Background(), func(tx bridge.Tx) error { return tx.AddInvite(inv) }); err == nil {
		t.Error("a second invite with the same code hash was stored")
	}
	var wins int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := []bridge.Store{h1, h2}[i%2]
			err := s.Update(context.Background(), func(tx bridge.Tx) error {
				ok, err := tx.RedeemInvite("hash-1", "worker-1", t0.Add(time.Minute), "")
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("an invite was redeemed %d times", wins)
	}
	view(t, h2, func(tx bridge.Tx) error {
		got, err := tx.Invite("hash-1")
		if err != nil {
			return err
		}
		inv.CreatedAt = inv.CreatedAt.Truncate(time.Millisecond)
		inv.RedeemedAt, inv.RedeemedBy = t0.Add(time.Minute), "worker-1"
		if got != inv {
			t.Errorf("invite read back\n got %+v\nwant %+v", got, inv)
		}
		if _, err := tx.Invite("hash-none"); bridge.KindOf(err) != bridge.EUnauthorized {
			t.Errorf("unknown invite: got %v", err)
		}
		open, err := tx.OpenInvites(conv, t0.Add(time.Minute))
		if err != nil || len(open) != 1 || open[0].CodeHash != "hash-2" || open[0].Member != "" {
			t.Errorf("open invites %+v %v", open, err)
		}
		if later, _ := tx.OpenInvites(conv, t0.Add(time.Hour)); len(later) != 0 {
			t.Errorf("an expired invite is open: %+v", later)
		}
		return nil
	})
	update(t, h1, func(tx bridge.Tx) error { _, err := tx.DeleteExpired(t0.Add(2 * time.Hour)); return err })
	view(t, h2, func(tx bridge.Tx) error {
		if _, err := tx.Invite("hash-2"); bridge.KindOf(err) != bridge.EUnauthorized {
			t.Errorf("invites of a removed conversation kept: %v", err)
		}
		return nil
	})
}

func broadcastFanOut(t *testing.T, open func(t *testing.T) bridge.Store) {
	h1, h2 := open(t), open(t)
	const conv = "conv_0000000000000b03"
	addConversation(t, h1, conv, t0.Add(time.Hour), "c", "d", "e")
	update(t, h1, func(tx bridge.Tx) error { return tx.RemoveMember(conv, "e", t0, "") })
	var bc, direct bridge.Message
	update(t, h2, func(tx bridge.Tx) error {
		bc = bridge.Message{ConversationID: conv, From: "a", To: bridge.Broadcast, ActionType: "info", Body: "to all", CreatedAt: t0}
		if err := tx.AddMessage(&bc); err != nil {
			return err
		}
		direct = bridge.Message{ConversationID: conv, From: "b", To: "c", ReplyTo: bc.ID, ActionType: "question", Body: "to c", CreatedAt: t0}
		return tx.AddMessage(&direct)
	})
	want := map[bridge.Member][]string{"a": nil, "b": {"to all"}, "c": {"to all", "to c"}, "d": {"to all"}, "e": nil}
	for m, bodies := range want {
		var got []bridge.Message
		update(t, []bridge.Store{h1, h2}[len(m)%2], func(tx bridge.Tx) (err error) {
			if n, _ := tx.UnreadCount(conv, m); n != len(bodies) {
				t.Errorf("%s: unread counter %d, want %d", m, n, len(bodies))
			}
			got, err = tx.TakeUnread(conv, m, t0.Add(time.Second), 100)
			return err
		})
		var gotBodies []string
		for _, g := range got {
			gotBodies = append(gotBodies, g.Body)
			if g.ID == direct.ID && (g.ReplyTo != bc.ID || g.To != "c" || g.From != "b") {
				t.Errorf("direct message read back as %+v", g)
			}
			if g.ID == bc.ID && g.To != bridge.Broadcast {
				t.Errorf("broadcast read back with recipient %q", g.To)
			}
		}
		if fmt.Sprint(gotBodies) != fmt.Sprint(bodies) {
			t.Errorf("%s received %v, want %v", m, gotBodies, bodies)
		}
	}
	view(t, h1, func(tx bridge.Tx) error {
		for m := range want {
			if n, _ := tx.UnreadCount(conv, m); n != 0 {
				t.Errorf("%s: %d unread after taking everything", m, n)
			}
		}
		r, err := tx.Receipt(conv, "a", "c")
		if err != nil || r.Unread != 0 || r.LastReadID != bc.ID {
			t.Errorf("receipt of a for c: %+v %v", r, err)
		}
		msgs, _ := tx.Messages(conv)
		if len(msgs) != 2 || msgs[0].ReadAt.IsZero() {
			t.Errorf("a broadcast read by all is read: %+v", msgs)
		}
		return nil
	})
	// A message stored with no recipient goes to every other member.
	update(t, h1, func(tx bridge.Tx) error {
		m := bridge.Message{ConversationID: conv, From: "d", ActionType: "info", Body: "legacy", CreatedAt: t0, System: true}
		if err := tx.AddMessage(&m); err != nil {
			return err
		}
		if m.To != bridge.Broadcast {
			t.Errorf("recipient %q, want broadcast", m.To)
		}
		for _, who := range []bridge.Member{"a", "b", "c"} {
			if n, _ := tx.UnreadCount(conv, who); n != 1 {
				t.Errorf("%s: %d unread, want 1", who, n)
			}
		}
		return nil
	})
}

func takeUnreadPages(t *testing.T, open func(t *testing.T) bridge.Store) {
	db := open(t)
	const conv = "conv_0000000000000b04"
	addConversation(t, db, conv, t0.Add(time.Hour))
	update(t, db, func(tx bridge.Tx) error {
		for i := 0; i < 5; i++ {
			if err := addMessage(tx, conv, "a", fmt.Sprint(i)); err != nil {
				return err
			}
		}
		return nil
	})
	var seen []string
	for _, want := range []int{2, 2, 1, 0} {
		update(t, db, func(tx bridge.Tx) error {
			got, err := tx.TakeUnread(conv, "b", t0.Add(time.Minute), 2)
			if err != nil {
				return err
			}
			if len(got) != want {
				t.Errorf("page of %d, want %d", len(got), want)
			}
			for _, m := range got {
				seen = append(seen, m.Body)
				if !m.ReadAt.Equal(t0.Add(time.Minute)) {
					t.Errorf("taken message read at %v", m.ReadAt)
				}
			}
			n, err := tx.UnreadCount(conv, "b")
			if n != 5-len(seen) {
				t.Errorf("unread %d after taking %d", n, len(seen))
			}
			return err
		})
	}
	if fmt.Sprint(seen) != "[0 1 2 3 4]" {
		t.Fatalf("taken %v, want oldest first, each once", seen)
	}
	view(t, db, func(tx bridge.Tx) error {
		h, err := tx.History(conv, "b", 0, time.Time{}, 10)
		if err != nil || len(h) != 5 || h[4].ReadAt.IsZero() {
			t.Errorf("history after reading %+v %v", h, err)
		}
		if h, _ := tx.History(conv, "a", 0, time.Time{}, 10); len(h) != 0 {
			t.Errorf("the sender's history holds its own messages: %d", len(h))
		}
		return nil
	})
}

// An ended HTTP session is seen by every handle until its record expires;
// ending it again keeps the later expiry; cleanup removes expired records
// and only those.
func endedSessions(t *testing.T, open func(t *testing.T) bridge.Store) {
	h1, h2 := open(t), open(t)
	d1, d2 := strings.Repeat("a", 64), strings.Repeat("b", 64)
	update(t, h1, func(tx bridge.Tx) error {
		if err := tx.EndSession(d1, t0.Add(time.Hour)); err != nil {
			return err
		}
		if err := tx.EndSession(d1, t0.Add(time.Minute)); err != nil { // again, earlier: kept later
			return err
		}
		return tx.EndSession(d2, t0.Add(time.Minute))
	})
	ended := func(h bridge.Store, d string, at time.Time) bool {
		t.Helper()
		var ok bool
		view(t, h, func(tx bridge.Tx) (err error) { ok, err = tx.SessionEnded(d, at); return err })
		return ok
	}
	if !ended(h2, d1, t0) || !ended(h2, d2, t0) || ended(h2, strings.Repeat("c", 64), t0) {
		t.Fatal("another handle does not see the ended sessions (or sees one never ended)")
	}
	if !ended(h2, d1, t0.Add(30*time.Minute)) || ended(h2, d2, t0.Add(30*time.Minute)) {
		t.Fatal("records are not honoured exactly until they expire")
	}
	var c bridge.Cleanup
	update(t, h2, func(tx bridge.Tx) (err error) { c, err = tx.DeleteExpired(t0.Add(30 * time.Minute)); return err })
	if c.Sessions != 1 {
		t.Fatalf("cleanup removed %d session records, want 1", c.Sessions)
	}
	if !ended(h1, d1, t0.Add(30*time.Minute)) {
		t.Fatal("cleanup removed a live record")
	}
}

// An imported message is delivered exactly as the export said (to a member
// that has left too), read or not per recipient, with the unread counters
// to match; Deliveries reads it all back.
func importMessageDelivers(t *testing.T, open func(t *testing.T) bridge.Store) {
	db := open(t)
	const conv = "conv_0000000000000006"
	addConversation(t, db, conv, t0.Add(time.Hour), "worker-3")
	to := []bridge.Delivery{{Member: "b", ReadAt: t0.Add(time.Second)}, {Member: "worker-3"}}
	update(t, db, func(tx bridge.Tx) error {
		if err := tx.RemoveMember(conv, "worker-3", t0.Add(time.Minute), ""); err != nil {
			return err
		}
		m := bridge.Message{ID: 41, ConversationID: conv, From: "a", To: bridge.Broadcast, ActionType: "info", Body: "plan", CreatedAt: t0}
		if err := tx.ImportMessage(&m, to); err != nil || m.ID != 41 {
			t.Errorf("import: id %d, %v", m.ID, err)
		}
		return nil
	})
	err := db.Update(context.Background(), func(tx bridge.Tx) error {
		return tx.ImportMessage(&bridge.Message{ID: 41, ConversationID: conv, From: "a", ActionType: "info", Body: "dup", CreatedAt: t0}, nil)
	})
	if err == nil {
		t.Fatal("a taken message id was accepted")
	}
	view(t, db, func(tx bridge.Tx) error {
		got, err := tx.Deliveries(conv)
		if err != nil {
			return err
		}
		want := []bridge.Delivery{{MessageID: 41, Member: "b", ReadAt: t0.Add(time.Second)}, {MessageID: 41, Member: "worker-3"}}
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("deliveries %+v, want %+v", got, want)
		}
		for m, n := range map[bridge.Member]int{"a": 0, "b": 0, "worker-3": 1} {
			if c, err := tx.UnreadCount(conv, m); err != nil || c != n {
				t.Errorf("unread of %s: %d %v, want %d", m, c, err, n)
			}
		}
		return nil
	})
}

// A write that reads its conversation first (as every call does) and
// then stores messages and audit rows gets fresh ids for each message and
// chains each row to the one before, whatever the store kept from that
// read; another handle's writes in between are seen.
func writeAfterReadingConversation(t *testing.T, open func(t *testing.T) bridge.Store) {
	h1, h2 := open(t), open(t)
	const conv = "conv_0000000000000c01"
	addConversation(t, h1, conv, t0.Add(time.Hour))
	appendRow := func(tx bridge.Tx, tool string) (bridge.AuditEntry, error) {
		seq, prev, err := tx.LastAudit(conv)
		if err != nil {
			return bridge.AuditEntry{}, err
		}
		e := bridge.AuditEntry{Chain: conv, Seq: seq + 1, At: t0, Tool: tool, ConversationID: conv, Outcome: bridge.OutcomeOK, PrevDigest: prev, Digest: tool}
		return e, tx.AppendAudit(e)
	}
	write := func(s bridge.Store, tool string) (ids []int64, rows []bridge.AuditEntry) {
		update(t, s, func(tx bridge.Tx) error {
			if err := tx.Lock(conv); err != nil {
				return err
			}
			if _, _, err := tx.ConversationMembers(conv); err != nil {
				return err
			}
			// One message takes its id from the store, the next asks for
			// one first (as sealed messages do).
			for i := 0; i < 2; i++ {
				var id int64
				if i == 1 {
					var err error
					if id, err = tx.NextMessageID(); err != nil {
						return err
					}
				}
				m := bridge.Message{ID: id, ConversationID: conv, From: "a", To: "b", ActionType: "info", Body: tool, CreatedAt: t0}
				if err := tx.AddMessage(&m); err != nil {
					return err
				}
				ids = append(ids, m.ID)
				e, err := appendRow(tx, fmt.Sprint(tool, i))
				if err != nil {
					return err
				}
				rows = append(rows, e)
			}
			return nil
		})
		return ids, rows
	}
	ids1, rows1 := write(h1, "first")
	ids2, rows2 := write(h2, "second")
	ids := append(ids1, ids2...)
	rows := append(rows1, rows2...)
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("message ids %v do not increase", ids)
		}
	}
	for i, e := range rows {
		if e.Seq != int64(i+1) || (i > 0 && e.PrevDigest != rows[i-1].Digest) {
			t.Fatalf("audit row %d: seq %d after %q; rows %+v", i, e.Seq, e.PrevDigest, rows)
		}
	}
}
