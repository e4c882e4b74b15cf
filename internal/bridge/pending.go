package bridge

import (
	"context"
	"slices"
	"time"
)

// Pending is a session with messages waiting for it, as a local hook sees
// it. Hooks run as the person who runs the agents, with the database and
// key file: they need no token.
type Pending struct {
	Conversation Conversation
	Session      Session
	Role         string // the member's role in the conversation
	Unread       int
}

// PendingQuery selects the sessions a hook reports on: one session, or the
// sessions whose agents run in Workdir.
type PendingQuery struct {
	Workdir        string
	ConversationID string
	Session        Session
}

// Pending returns, for the selected sessions of live conversations, how
// many messages wait for each (sessions with none included).
func (s *Service) Pending(ctx context.Context, q PendingQuery) ([]Pending, error) {
	var out []Pending
	now := s.cfg.Now()
	err := s.store.View(ctx, func(tx Tx) error {
		var eps []Endpoint
		if q.ConversationID != "" {
			eps = []Endpoint{{ConversationID: q.ConversationID, Session: q.Session}}
		} else {
			var err error
			if eps, err = tx.Endpoints(q.Workdir, now.Add(-s.cfg.TTL)); err != nil {
				return err
			}
		}
		for _, e := range eps {
			conv, err := tx.Conversation(e.ConversationID)
			if IsNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			if conv.Expired(now) {
				continue
			}
			m, err := tx.Member(e.ConversationID, e.Session)
			if IsNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			if !m.Active() {
				continue // it left: its inbox is no longer its business
			}
			n, err := tx.UnreadCount(e.ConversationID, e.Session)
			if err != nil {
				return err
			}
			out = append(out, Pending{Conversation: conv, Session: e.Session, Role: m.Role, Unread: n})
		}
		return nil
	})
	return out, err
}

// WaitPending blocks until a selected session has a message waiting, the
// wait ends or ctx is done, and returns what Pending returns then. It
// wakes only for the inboxes of the sessions selected (and, when it
// selects by working directory, for a newly recorded endpoint), never for
// other conversations' traffic.
func (s *Service) WaitPending(ctx context.Context, q PendingQuery, wait time.Duration) ([]Pending, error) {
	deadline := s.cfg.Now().Add(wait)
	var topics []string
	if q.ConversationID == "" {
		topics = []string{EndpointsTopic}
	} else {
		topics = InboxTopics(q.ConversationID, q.Session)
	}
	stop := func() {}
	defer func() { stop() }()
	for {
		// Before reading, so no commit is missed.
		changed, stopNext := s.store.Watch(topics...)
		stop()
		stop = stopNext
		ps, err := s.Pending(ctx, q)
		if err != nil || len(ps) == 0 {
			return ps, err // nothing to wait for
		}
		for _, p := range ps {
			if p.Unread > 0 {
				return ps, nil
			}
		}
		left := deadline.Sub(s.cfg.Now())
		if left <= 0 {
			return ps, nil
		}
		if q.ConversationID == "" {
			// The sessions found by directory: watch their inboxes too,
			// and read again, since a message may have come meanwhile.
			want := []string{EndpointsTopic}
			for _, p := range ps {
				want = append(want, InboxTopics(p.Conversation.ID, p.Session)...)
			}
			if !slices.Equal(want, topics) {
				topics = want
				continue
			}
		}
		if err := sleep(ctx, changed, left); err != nil {
			return ps, err
		}
	}
}
