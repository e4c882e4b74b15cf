package bridge

import (
	"context"
	"errors"
	"time"
)

// errMustWrite ends a read-only attempt that found something to write (a
// check_messages with messages to deliver): nothing of the attempt is
// kept or audited, and the caller runs the call as a write (callAs).
var errMustWrite = errors.New("bridge: the call must write")

// callRead is callAs for a call that changes nothing: fn authenticates (with
// authorize or authorizeMember, as a write call would) and reads, in a read
// transaction. What the call must leave behind, its audit row (or its
// refusal's), the rate-limit event it took and the member's heartbeat, is
// queued in the journal (journal.go), which writes it within
// Config.JournalDelay, with the next write of the conversation in this
// process, or at Close. The rate limit counts queued events, so it is as
// exact within the process as for writes.
func (s *Service) callRead(ctx context.Context, tool string, c *Caller, fn func(tx Tx, now time.Time) (detail string, err error)) error {
	now := s.cfg.Now()
	rec := &record{at: now, tool: tool}
	var detail string
	st := &s.jr.stripes[s.jr.stripe(c.ConversationID)]
	reassigned := false
	read := func() error {
		return s.store.View(context.WithoutCancel(ctx), func(tx Tx) error {
			// Before the first read: a flush of this conversation's events
			// either landed wholly before this snapshot or after this decision.
			st.RLock()
			defer st.RUnlock()
			*rec = record{at: now, tool: tool} // a store that runs fn again
			var err error
			detail, err = fn(&readTx{Tx: tx, rec: rec, reassigned: reassigned}, now)
			if err != nil && rec.admitted != "" {
				s.jr.forget([]event{{subject: rec.admitted, at: now}})
				rec.admitted = ""
			}
			return err
		})
	}
	err := read()
	if err != nil && rec.admitted != "" { // the view failed to end
		s.jr.forget([]event{{subject: rec.admitted, at: now}})
	}
	if err == errMustReassign {
		// Tasks of silent assignees are due to reopen: that is a write of
		// its own (audited as tasks:reassign), then the call reads again.
		if _, err = s.reassignConversation(ctx, c.ConversationID); err == nil {
			reassigned = true
			if err = read(); err != nil && rec.admitted != "" {
				s.jr.forget([]event{{subject: rec.admitted, at: now}})
			}
		}
	}
	if err == errMustWrite {
		return err
	}
	rec.conv, rec.sess = c.ConversationID, c.Session
	if err != nil {
		if KindOf(err) == ERateLimited {
			s.cfg.Events.RateLimited()
		}
		// A refusal takes nothing from the limit and proves nothing alive.
		s.queue(record{at: now, conv: c.ConversationID, sess: c.Session, tool: tool, err: err})
		return err
	}
	rec.detail = detail
	s.queue(*rec)
	return nil
}

// readTx is the read transaction callRead hands its function: the writes
// authorizeMember makes (a rate-limit event, a heartbeat, an endpoint) are
// kept in the call's record for the journal; any other write fails, as in
// any read transaction.
type readTx struct {
	Tx
	rec        *record
	reassigned bool // callRead reopened due tasks just before this attempt
}

func (t *readTx) AddRequest(subject, conversationID string, at, forgetBefore time.Time) error {
	t.rec.subject, t.rec.forget = subject, forgetBefore
	return nil
}

func (t *readTx) Touch(conversationID string, s Member, at time.Time) error {
	t.rec.touch = at
	return nil
}

func (t *readTx) SeeEndpoint(e Endpoint) error {
	t.rec.endpoint = &e
	return nil
}
