package bridge

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/lease"
)

// Management reads of tasks and leases, for the CLI (tasks, leases,
// guard). Like List and Show they trust their caller and write nothing.

// AdminTasks returns the tasks f selects whose MAC verifies, by
// conversation and id, from unexpired conversations only when f names none.
func (s *Service) AdminTasks(ctx context.Context, f TaskFilter) ([]Task, error) {
	if f.ConversationID != "" && !ValidConversationID(f.ConversationID) {
		return nil, Errorf(EInvalid, "%q is not a conversation id (conv_ followed by 16 hex digits)", f.ConversationID)
	}
	for _, st := range f.States {
		if !slices.Contains(TaskStates, st) {
			return nil, Errorf(EInvalid, "state must be one of %s; it is %q.", quoteList(TaskStates), st)
		}
	}
	var out []Task
	now := s.cfg.Now()
	err := s.store.View(ctx, func(tx Tx) error {
		if f.ConversationID != "" {
			if _, err := tx.Conversation(f.ConversationID); err != nil {
				return err
			}
			return s.appendTasks(tx, f, &out)
		}
		return eachLive(tx, now, func(c Conversation) error {
			g := f
			g.ConversationID = c.ID
			return s.appendTasks(tx, g, &out)
		})
	})
	return out, err
}

func (s *Service) appendTasks(tx Tx, f TaskFilter, out *[]Task) error {
	ts, err := tx.Tasks(f)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if s.taskSealed(t) {
			*out = append(*out, t)
		}
	}
	return nil
}

// AdminLeases returns the live leases whose MAC verifies: of one
// conversation, or of every conversation when conv is "".
func (s *Service) AdminLeases(ctx context.Context, conv string) ([]Lease, error) {
	if conv != "" && !ValidConversationID(conv) {
		return nil, Errorf(EInvalid, "%q is not a conversation id (conv_ followed by 16 hex digits)", conv)
	}
	var out []Lease
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = s.liveLeases(tx, conv, s.cfg.Now())
		return err
	})
	return out, err
}

// GuardConflict is a staged file under another member's exclusive lease.
type GuardConflict struct {
	File  string
	Lease Lease
}

// GuardQuery says whose commit the guard checks.
type GuardQuery struct {
	ConversationID string // only this conversation's leases; every live one when ""
	Member         Member // the committer; with Workdir unset and Member "", every exclusive lease blocks
	// Workdir, when Member is "", names the committer by where its agent
	// runs: the members agent-bridge serve saw working there are "me".
	Workdir string
}

// Guard returns the files (repository-relative) that fall under a live
// exclusive lease held by anyone but the committer. With no live leases it
// reads one indexed range and returns at once.
func (s *Service) Guard(ctx context.Context, q GuardQuery, files []string) ([]GuardConflict, error) {
	leases, err := s.AdminLeases(ctx, q.ConversationID)
	if err != nil || len(leases) == 0 || len(files) == 0 {
		return nil, err
	}
	me := map[[2]string]bool{}
	byMember := q.Member != "" && q.ConversationID == ""
	if q.Member != "" && q.ConversationID != "" {
		me[[2]string{q.ConversationID, string(q.Member)}] = true
	}
	if q.Member == "" && q.Workdir != "" {
		now := s.cfg.Now()
		err := s.store.View(ctx, func(tx Tx) error {
			eps, err := tx.Endpoints(q.Workdir, now.Add(-s.cfg.MaxLifetime))
			for _, e := range eps {
				me[[2]string{e.ConversationID, string(e.Session)}] = true
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	var out []GuardConflict
	for _, f := range files {
		clean, err := lease.Clean(f)
		if err != nil {
			continue // git never stages such a path
		}
		for _, l := range leases {
			if !l.Exclusive || me[[2]string{l.ConversationID, string(l.Member)}] || (byMember && l.Member == q.Member) {
				continue
			}
			if lease.Covers(l.Pattern, clean) {
				out = append(out, GuardConflict{File: f, Lease: l})
				break
			}
		}
	}
	return out, nil
}

// verifyTaskRows reports every task and lease whose MAC does not verify:
// for audit --verify.
func (s *Service) verifyTaskRows(tx Tx, now time.Time) ([]string, error) {
	var problems []string
	convs, err := tx.Conversations()
	if err != nil {
		return nil, err
	}
	for _, c := range convs {
		ts, err := tx.Tasks(TaskFilter{ConversationID: c.ID})
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if !s.taskSealed(t) {
				problems = append(problems, fmt.Sprintf("task %d of %s (state %s) was written or changed outside agent-bridge: its MAC does not verify, so it is not acted on", t.ID, c.ID, t.State))
			}
		}
	}
	ls, err := tx.Leases("", now)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		if !s.leaseSealed(l) {
			problems = append(problems, fmt.Sprintf("lease %d of %s (%s on %q) was written or changed outside agent-bridge: its MAC does not verify, so it blocks nobody", l.ID, l.ConversationID, l.Member, l.Pattern))
		}
	}
	return problems, nil
}
