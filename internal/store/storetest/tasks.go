package storetest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// tasksClaimAndStale: tasks round-trip; the compare-and-set lets exactly
// one of several handles claim; StaleTasks follows the conversation's
// threshold (or the default) and skips the episode already reassigned;
// Tasks filters and pages.
func tasksClaimAndStale(t *testing.T, open func(t *testing.T) bridge.Store) {
	h1, h2 := open(t), open(t)
	const conv = "conv_0000000000000017"
	addConversation(t, h1, conv, t0.Add(time.Hour), "w1")
	update(t, h1, func(tx bridge.Tx) error {
		for i := 0; i < 3; i++ {
			id, err := tx.NextTaskID(conv)
			if err != nil {
				return err
			}
			if id != int64(i+1) {
				t.Errorf("next task id %d, want %d", id, i+1)
			}
			k := bridge.Task{ConversationID: conv, ID: id, Title: "t", Files: []string{"a.go"}, CreatedBy: "a", State: bridge.TaskOpen,
				CreatedAt: t0, UpdatedAt: t0, MAC: "m"}
			if err := tx.AddTask(k); err != nil {
				return err
			}
		}
		return tx.Touch(conv, "w1", t0)
	})
	var got bridge.Task
	view(t, h2, func(tx bridge.Tx) (err error) { got, err = tx.Task(conv, 2); return err })
	want := bridge.Task{ConversationID: conv, ID: 2, Title: "t", Files: []string{"a.go"}, CreatedBy: "a", State: bridge.TaskOpen, CreatedAt: t0, UpdatedAt: t0, MAC: "m"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("task 2 read back as %+v", got)
	}
	view(t, h2, func(tx bridge.Tx) error {
		if _, err := tx.Task(conv, 9); !bridge.IsNotFound(err) {
			t.Errorf("task 9: %v", err)
		}
		return nil
	})
	// Claims from two handles at once: one wins.
	var wg sync.WaitGroup
	wins := make([]bool, 2)
	for i, h := range []bridge.Store{h1, h2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := want
			k.Assignee, k.State = bridge.Member([]string{"a", "w1"}[i]), bridge.TaskWorking
			if err := h.Update(t.Context(), func(tx bridge.Tx) (err error) {
				wins[i], err = tx.SaveTask(k, bridge.TaskOpen, "")
				return err
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins[0] == wins[1] {
		t.Fatalf("claims won: %v", wins)
	}
	// Make w1 the assignee of task 1 too; it last called at t0.
	update(t, h1, func(tx bridge.Tx) error {
		k := want
		k.ID, k.Assignee, k.State = 1, "w1", bridge.TaskInputRequired
		_, err := tx.SaveTask(k, bridge.TaskOpen, "")
		return err
	})
	stale := func(now time.Time) []int64 {
		var ids []int64
		view(t, h2, func(tx bridge.Tx) error {
			st, err := tx.StaleTasks(conv, now, 5*time.Minute)
			for _, s := range st {
				if s.Assignee == "w1" && !s.Heartbeat.Equal(t0) {
					t.Errorf("stale heartbeat %v", s.Heartbeat)
				}
				if s.Assignee == "w1" {
					ids = append(ids, s.ID)
				}
			}
			return err
		})
		return ids
	}
	if ids := stale(t0.Add(5 * time.Minute)); len(ids) != 0 {
		t.Fatalf("stale at the threshold: %v", ids)
	}
	if ids := stale(t0.Add(5*time.Minute + time.Millisecond)); len(ids) < 1 || ids[0] != 1 {
		t.Fatalf("stale past the threshold: %v", ids)
	}
	update(t, h1, func(tx bridge.Tx) error { return tx.SetReassignAfter(conv, 30*time.Second) })
	view(t, h2, func(tx bridge.Tx) error {
		d, err := tx.ReassignAfter(conv)
		if d != 30*time.Second {
			t.Errorf("threshold %v", d)
		}
		return err
	})
	if ids := stale(t0.Add(31 * time.Second)); len(ids) < 1 {
		t.Fatalf("conversation threshold ignored: %v", ids)
	}
	// Reopened for this episode: never stale again for the same heartbeat.
	update(t, h1, func(tx bridge.Tx) error {
		k := want
		k.ID, k.ReassignedFor = 1, t0
		ok, err := tx.SaveTask(k, bridge.TaskInputRequired, "w1")
		if !ok {
			t.Error("reopen lost")
		}
		k.Assignee, k.State = "w1", bridge.TaskWorking // handed back while still silent
		if _, err := tx.SaveTask(k, bridge.TaskOpen, ""); err != nil {
			return err
		}
		return err
	})
	for _, id := range stale(t0.Add(time.Hour)) {
		if id == 1 {
			t.Fatal("task 1 stale twice in one episode")
		}
	}
	var page []bridge.Task
	view(t, h2, func(tx bridge.Tx) (err error) {
		page, err = tx.Tasks(bridge.TaskFilter{ConversationID: conv, Assignee: "w1", States: []string{bridge.TaskWorking, bridge.TaskInputRequired}, Limit: 5})
		return err
	})
	if len(page) < 1 || page[0].ID != 1 {
		t.Fatalf("filtered: %+v", page)
	}
	view(t, h2, func(tx bridge.Tx) (err error) {
		page, err = tx.Tasks(bridge.TaskFilter{ConversationID: conv, AfterID: 1, Limit: 1})
		return err
	})
	if len(page) != 1 || page[0].ID != 2 {
		t.Fatalf("paged: %+v", page)
	}
}

// leasesLiveAndCleanup: expired leases are not read, cleanup deletes them,
// a task's leases go with it, and a conversation's with it.
func leasesLiveAndCleanup(t *testing.T, open func(t *testing.T) bridge.Store) {
	h1, h2 := open(t), open(t)
	const conv = "conv_0000000000000018"
	addConversation(t, h1, conv, t0.Add(time.Hour))
	update(t, h1, func(tx bridge.Tx) error {
		for i, ttl := range []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute} {
			id, err := tx.NextLeaseID(conv)
			if err != nil {
				return err
			}
			l := bridge.Lease{ConversationID: conv, ID: id, Member: "b", Pattern: "src/**", Exclusive: i == 0, TaskID: int64(i), CreatedAt: t0, ExpiresAt: t0.Add(ttl), MAC: "m"}
			if err := tx.AddLease(l); err != nil {
				return err
			}
		}
		return nil
	})
	live := func(conv string, at time.Time) []bridge.Lease {
		var ls []bridge.Lease
		view(t, h2, func(tx bridge.Tx) (err error) { ls, err = tx.Leases(conv, at); return err })
		return ls
	}
	ls := live(conv, t0)
	if len(ls) != 3 || !ls[0].Exclusive || ls[1].TaskID != 1 || !ls[0].ExpiresAt.Equal(t0.Add(time.Minute)) || ls[0].MAC != "m" {
		t.Fatalf("leases %+v", ls)
	}
	if ls := live("", t0.Add(time.Minute)); len(ls) != 2 {
		t.Fatalf("expired lease read: %+v", ls)
	}
	update(t, h2, func(tx bridge.Tx) error {
		l := ls[0]
		l.ExpiresAt, l.MAC = t0.Add(time.Hour), "m2"
		if err := tx.SaveLease(l); err != nil {
			return err
		}
		n, err := tx.DeleteTaskLeases(conv, 2)
		if n != 1 {
			t.Errorf("task leases deleted: %d", n)
		}
		return err
	})
	var n int
	update(t, h1, func(tx bridge.Tx) (err error) { n, err = tx.DeleteExpiredLeases(t0.Add(2 * time.Minute)); return err })
	if n != 1 {
		t.Fatalf("cleanup deleted %d", n)
	}
	if ls := live(conv, t0.Add(30*time.Minute)); len(ls) != 1 || ls[0].ID != 1 || ls[0].MAC != "m2" {
		t.Fatalf("after renew and cleanup: %+v", ls)
	}
	update(t, h1, func(tx bridge.Tx) error { _, err := tx.DeleteExpired(t0.Add(2 * time.Hour)); return err })
	if ls := live("", t0); len(ls) != 0 {
		t.Fatalf("leases outlived their conversation: %+v", ls)
	}
}
