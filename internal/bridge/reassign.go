package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultReassignAfter is how long a task's assignee may be silent before
// the task goes back to open, in a conversation that set no threshold of
// its own (Config.ReassignAfter overrides it per process).
const DefaultReassignAfter = 5 * time.Minute

// reassignSilent sends back to open every task of conv whose assignee has
// been silent past the threshold, once per silence episode: the stored
// guard (reassigned_for = the assignee's heartbeat) and the compare-and-set
// on state and assignee make racing processes produce one reassignment.
// It runs inside the transaction of whichever call next touches the
// conversation, and in the watchdog's pass, so no separate process need
// be alive. Each reassignment releases the task's leases, tells the
// creator and the other members why, leaves a system message the silent
// member sees on its next call, and appends its own audit row.
func (s *Service) reassignSilent(tx Tx, conv string, now time.Time) ([]StaleTask, error) {
	stale, err := tx.StaleTasks(conv, now, s.reassignAfter())
	if err != nil || len(stale) == 0 {
		return nil, err
	}
	team, err := s.team(tx, conv, now)
	if err != nil {
		return nil, err
	}
	var n []StaleTask
	for _, st := range stale {
		t := st.Task
		if !s.taskSealed(t) {
			continue // a forged task is never acted on
		}
		was, who := t.State, t.Assignee
		t.State, t.Assignee = TaskOpen, ""
		t.ReassignedFor = st.Heartbeat
		t.UpdatedAt = now.UTC().Truncate(time.Millisecond)
		t = s.sealTask(t)
		ok, err := tx.SaveTask(t, was, who)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		released, err := tx.DeleteTaskLeases(conv, t.ID)
		if err != nil {
			return nil, err
		}
		silent := now.Sub(st.Heartbeat).Round(time.Second)
		last := "none"
		if t.Note != "" {
			last = fmt.Sprintf("%q", t.Note)
		}
		why := fmt.Sprintf("task %s went back to open: its assignee %s has made no call since %s (%s).", quoteTitle(t), who, FormatTime(st.Heartbeat), Human(silent))
		notes := []notice{{Broadcast, fmt.Sprintf("Reassignment: %s Last progress note: %s. %s released. Any member may claim it with tasks action claim, task_id %d.", why, last, Quantity(released, "lease"), t.ID)}}
		if err := s.tell(tx, conv, who, team, notes, now); err != nil {
			return nil, err
		}
		// The silent member learns of it on its next call (unread count,
		// then check_messages).
		if _, ok := team.member(who); ok {
			m := Message{ConversationID: conv, From: who, To: who, ActionType: "info", System: true, CreatedAt: now.UTC().Truncate(time.Millisecond),
				Body: fmt.Sprintf("While you were silent, your %s It is no longer yours: stop working on it unless you claim it again (tasks action claim).", why)}
			if err := addMessage(tx, &m); err != nil {
				return nil, err
			}
		}
		detail := fmt.Sprintf("task %d reopened: assignee %s silent since %s; %s released", t.ID, who, FormatTime(st.Heartbeat), Quantity(released, "lease"))
		if err := s.appendAudit(tx, now, "tasks:reassign", conv, who, nil, detail); err != nil {
			return nil, err
		}
		n = append(n, st)
	}
	return n, nil
}

func (s *Service) reassignAfter() time.Duration {
	if s.cfg.ReassignAfter > 0 {
		return s.cfg.ReassignAfter
	}
	return DefaultReassignAfter
}

// Reassign runs reassignment over every live conversation: the watchdog's
// pass. It returns the tasks it sent back to open, as they were before
// (assignee included).
func (s *Service) Reassign(ctx context.Context) ([]StaleTask, error) {
	var convs []Conversation
	now := s.cfg.Now()
	if err := s.store.View(ctx, func(tx Tx) error {
		return eachLive(tx, now, func(c Conversation) error { convs = append(convs, c); return nil })
	}); err != nil {
		return nil, err
	}
	var total []StaleTask
	for _, c := range convs {
		n, err := s.reassignConversation(ctx, c.ID)
		if err != nil {
			return total, err
		}
		total = append(total, n...)
	}
	return total, nil
}

// reassignConversation reopens the tasks of conv's silent assignees in a
// write transaction of its own, reading first: a pass that finds nothing
// writes nothing.
func (s *Service) reassignConversation(ctx context.Context, conv string) ([]StaleTask, error) {
	var n []StaleTask
	err := s.store.View(ctx, func(tx Tx) error {
		st, err := tx.StaleTasks(conv, s.cfg.Now(), s.reassignAfter())
		n = st
		return err
	})
	if err != nil || len(n) == 0 {
		return nil, err
	}
	err = s.update(context.WithoutCancel(ctx), conv, func(stx Tx) error {
		// Under the conversation's lock, and sealed like any call's writes.
		tx := &sealTx{Tx: stx, s: s}
		if err := tx.Lock(conv); err != nil {
			return err
		}
		var err error
		n, err = s.reassignSilent(tx, conv, s.cfg.Now())
		return err
	})
	return n, err
}

// errMustReassign ends a read-only attempt (callRead) that found tasks of
// silent assignees to reopen: callRead reopens them in a write of their
// own (reassignConversation) and reads again.
var errMustReassign = errors.New("bridge: tasks must be reassigned first")

// reopenSilent reopens the tasks of conv's silent assignees inside a
// call's transaction; in a read-only attempt it only looks, and asks
// callRead to reopen them first when one is due. members is the
// conversation's member list as the call read it: when no member has been
// silent for the shortest threshold a conversation can have, no task can
// be due and the store is not asked.
func (s *Service) reopenSilent(tx Tx, conv string, members []Membership, now time.Time) error {
	if !anySilent(members, now, min(MinReassignAfter, s.reassignAfter())) {
		return nil
	}
	if rt, ok := tx.(*readTx); ok {
		if rt.reassigned {
			return nil // reopened just before this attempt; the next call sees anything newer
		}
		stale, err := tx.StaleTasks(conv, now, s.reassignAfter())
		if err != nil {
			return err
		}
		if len(stale) > 0 {
			return errMustReassign
		}
		return nil
	}
	_, err := s.reassignSilent(tx, conv, now)
	return err
}

// anySilent reports whether a member's stored heartbeat is older than
// `after` at now: the members side of Tx.StaleTasks, which finds nothing
// otherwise (a conversation's threshold is never below MinReassignAfter).
func anySilent(members []Membership, now time.Time, after time.Duration) bool {
	for _, m := range members {
		last := m.Heartbeat
		if last.IsZero() {
			last = m.JoinedAt // never called: silent since it joined
		}
		if last.Before(now.Add(-after)) {
			return true
		}
	}
	return false
}
