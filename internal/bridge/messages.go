package bridge

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agent-bridge/agent-bridge/internal/redact"
)

// SendInput is a message, before redaction.
type SendInput struct {
	Message    string
	ActionType string // "" means "info"
	Files      []string
	// To is a member id, "all" (or Broadcast) for every other member, or ""
	// for the other member of a two-member conversation.
	To      Member
	ReplyTo int64 // a message the caller received; 0 when none
}

// Sent is the result of Send.
type Sent struct {
	Message  Message        // as stored (redacted)
	Redacted []redact.Count // kinds removed from the message and files
	Unread   int            // messages waiting for the sender
}

// Send stores a message for one member or every other member, redacted,
// durably, before returning. A broadcast is stored once and delivered
// exactly once to each other active member, in the same transaction.
func (s *Service) Send(ctx context.Context, c Caller, in SendInput) (Sent, error) {
	var out Sent
	err := s.callAs(ctx, "send_to_partner", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		if err := s.checkSend(&in); err != nil {
			return "", err
		}
		a, err := s.authorizeTeam(tx, &c, now)
		if err != nil {
			return "", err
		}
		me := a.me
		to, err := recipient(a.members, c, in.To)
		if err != nil {
			return "", err
		}
		if in.ReplyTo != 0 {
			got, err := tx.History(c.ConversationID, c.Session, in.ReplyTo-1, time.Time{}, 1)
			if err != nil {
				return "", err
			}
			if len(got) == 0 || got[0].ID != in.ReplyTo {
				return "", Errorf(EInvalid, "reply_to %d is not a message you received in this conversation: pass the id of a message check_messages gave you, or omit reply_to.", in.ReplyTo)
			}
		}
		body, findings := s.redactor.Redact(in.Message)
		files := make([]string, len(in.Files))
		for i, f := range in.Files {
			var ff []redact.Finding
			files[i], ff = s.redactor.Redact(f)
			findings = append(findings, ff...)
		}
		m := Message{
			ConversationID: c.ConversationID, From: c.Session, To: to, ReplyTo: in.ReplyTo, ActionType: in.ActionType,
			Body: body, Files: files, CreatedAt: now.UTC().Truncate(time.Millisecond),
		}
		if err := addMessage(tx, &m); err != nil {
			return "", err
		}
		// The sender's counter as read when it was authorized: a send never
		// delivers to its sender.
		out = Sent{Message: m, Redacted: redact.Counts(findings), Unread: me.Unread}
		detail := fmt.Sprintf("message %d to %s, %s, %d chars, %d files", m.ID, m.To, m.ActionType, utf8.RuneCountInString(body), len(files))
		if len(out.Redacted) > 0 {
			detail += ", redacted " + countsText(out.Redacted)
		}
		return detail, nil
	})
	if err == nil {
		s.cfg.Events.MessagesStored(1)
		for _, c := range out.Redacted {
			s.cfg.Events.Redacted(c.Kind, c.N)
		}
	}
	return out, err
}

// recipient resolves a send's `to` among the conversation's members: in a
// two-member conversation it defaults to the other member and a broadcast
// is refused as meaningless; with more members it is required.
func recipient(members []Membership, c Caller, to Member) (Member, error) {
	var others []string
	for _, m := range members {
		if m.Active() && m.Member != c.Session {
			others = append(others, string(m.Member))
		}
	}
	if to == "all" {
		to = Broadcast
	}
	switch {
	case len(others) == 0:
		return "", Errorf(EInvalid, "you are the only member of %s: nobody would read this message. Call invite_member and give the code to the agent you want to talk to.", c.ConversationID)
	case to == "" && len(others) == 1:
		return Member(others[0]), nil
	case to == "":
		return "", Errorf(EInvalid, "this conversation has %d other members, so to is required: pass one member id (%s) or \"all\" for everyone.", len(others), quoteList(others))
	case to == Broadcast && len(others) == 1:
		return "", Errorf(EInvalid, "to \"all\" is meaningless in a two-member conversation: omit to, and the message goes to your only partner, %s.", others[0])
	case to == Broadcast:
		return Broadcast, nil
	case to == c.Session:
		return "", Errorf(EInvalid, "to names you (%s): a message goes to another member (%s) or \"all\".", to, quoteList(others))
	case !to.Valid():
		return "", Errorf(EInvalid, "to %q is not a member id: pass one of %s, or \"all\".", to, quoteList(others))
	case !slices.Contains(others, string(to)):
		return "", Errorf(ENotFound, "to %q is not a member of this conversation: pass one of %s, or \"all\".", to, quoteList(others))
	}
	return to, nil
}

func (s *Service) checkSend(in *SendInput) error {
	if n := utf8.RuneCountInString(in.Message); n > s.cfg.MaxMessageChars {
		return Errorf(ETooLarge, "message is %s characters; the limit is %s. Shorten it or split it into several messages.", thousands(n), thousands(s.cfg.MaxMessageChars))
	}
	if strings.TrimSpace(in.Message) == "" {
		return Errorf(EInvalid, "message is empty: write the text you want your partner to read.")
	}
	if why := storable(in.Message); why != "" {
		return Errorf(EInvalid, "message %s.", why)
	}
	if in.ActionType == "" {
		in.ActionType = "info"
	}
	if !oneOf(in.ActionType, ActionTypes) {
		return Errorf(EInvalid, "action_type must be one of %s (default \"info\").", quoteList(ActionTypes))
	}
	if len(in.Files) > s.cfg.MaxFiles {
		return Errorf(ETooLarge, "files_involved has %d entries; the limit is %d. List the most relevant paths only.", len(in.Files), s.cfg.MaxFiles)
	}
	for i, f := range in.Files {
		if n := utf8.RuneCountInString(f); n > s.cfg.MaxFileChars {
			return Errorf(ETooLarge, "files_involved[%d] is %d characters; the limit is %d per entry.", i, n, s.cfg.MaxFileChars)
		}
		if strings.TrimSpace(f) == "" {
			return Errorf(EInvalid, "files_involved[%d] is empty: give a file path.", i)
		}
		if why := storable(f); why != "" {
			return Errorf(EInvalid, "files_involved[%d] %s.", i, why)
		}
	}
	return nil
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func countsText(cs []redact.Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s x%d", c.Kind, c.N)
	}
	return strings.Join(parts, ", ")
}

// CheckInput selects what CheckMessages returns.
type CheckInput struct {
	// Wait, when positive, blocks until an unread message arrives (from any
	// process), the wait ends, the conversation expires or ctx is done.
	Wait time.Duration
	// Peek returns the unread messages without marking them read.
	Peek bool
	// History returns messages addressed to the caller, read or not, with
	// an id above AfterID and created at or after Since, at most Limit,
	// marking nothing read.
	History bool
	AfterID int64
	Since   time.Time
	Limit   int
}

// Inbox is the result of CheckMessages.
type Inbox struct {
	Conversation Conversation
	Member       Member        // the caller
	Members      []Membership  // the active members, for names and roles
	Messages     []Message     // each with its sender's Role
	Unread       int           // still unread for the caller after this call: more waiting beyond a page
	Waited       time.Duration // how long the call blocked
}

// describe fills each message's sender role, and the inbox's member list.
func (s *Service) describe(tx Tx, in *Inbox) error {
	return s.describeWith(tx, in, nil)
}

// describeWith is describe with the conversation's member list when the
// transaction has already read it (nil: read it).
func (s *Service) describeWith(tx Tx, in *Inbox, all []Membership) error {
	// Every path that hands out messages comes here: a message whose MAC
	// fails reaches the reader as a notice, never as its sender's words.
	if err := s.screen(tx, in.Messages); err != nil {
		return err
	}
	if all == nil {
		var err error
		if all, err = tx.Members(in.Conversation.ID); err != nil {
			return err
		}
	}
	roles := map[Member]string{}
	in.Members = in.Members[:0]
	for _, m := range all {
		roles[m.Member] = m.Role
		if m.Active() {
			in.Members = append(in.Members, m)
		}
	}
	for i := range in.Messages {
		in.Messages[i].Role = roles[in.Messages[i].From]
	}
	return nil
}

func (s *Service) checkCheck(in CheckInput) error {
	switch {
	case in.Wait < 0 || in.Wait > s.cfg.MaxWait:
		return Errorf(EInvalid, "wait_seconds must be 0 to %d; it is %d.", int(s.cfg.MaxWait/time.Second), int(in.Wait/time.Second))
	case in.Peek && in.History:
		return Errorf(EInvalid, "peek and history cannot be combined: peek shows unread messages, history pages through all of them.")
	case !in.History && (in.AfterID != 0 || !in.Since.IsZero() || in.Limit != 0):
		return Errorf(EInvalid, "after_id, since and limit page through history: pass history true with them.")
	case in.History && in.Wait > 0:
		return Errorf(EInvalid, "history does not wait: drop wait_seconds, or drop history to wait for new messages.")
	case in.AfterID < 0:
		return Errorf(EInvalid, "after_id must be 0 or a message id; it is %d.", in.AfterID)
	case in.Limit < 0 || in.Limit > s.cfg.MaxHistory:
		return Errorf(EInvalid, "limit must be 1 to %d (default %d); it is %d.", s.cfg.MaxHistory, s.cfg.MaxHistory, in.Limit)
	}
	return nil
}

// CheckMessages returns a page of the caller's unread messages, oldest
// first, and marks them read in the same transaction: each is delivered
// exactly once. With in.Wait it blocks until one arrives; Peek and History
// read without marking. Nothing is marked read unless ctx is still live
// right before the commit: a caller that has gone takes nothing. Every call
// leaves an audit row, and so does every delivery made after waiting; a
// call that takes nothing runs as a read and its row goes through the
// journal (callRead).
func (s *Service) CheckMessages(ctx context.Context, c Caller, in CheckInput) (Inbox, error) {
	const tool = "check_messages"
	var out Inbox
	start := s.cfg.Now()
	taking := !in.Peek && !in.History
	// A check that will wait watches its inbox before it reads: when it
	// finds nothing, the wait starts from this read instead of reading
	// again (see waitStart). Only when the caller named its member: the
	// topics name it.
	var pre *waitStart
	if taking && in.Wait > 0 && c.Session.Valid() {
		pre = &waitStart{}
		pre.changed, pre.stop = s.store.Watch(InboxTopics(c.ConversationID, c.Session)...)
		defer func() {
			if pre != nil {
				pre.stop()
			}
		}()
	}
	// Peek, history and a check that finds nothing change nothing: they run
	// as reads (callRead). A check with messages to take is a write.
	err := s.callRead(ctx, tool, &c, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		if err := s.checkCheck(in); err != nil {
			return "", err
		}
		a, err := s.authorizeTeam(tx, &c, now)
		if err != nil {
			return "", err
		}
		if taking && a.me.Unread > 0 {
			return "", errMustWrite
		}
		if pre != nil {
			pre.heartbeat = a.me.Heartbeat
			if pre.reassignAfter, err = tx.ReassignAfter(c.ConversationID); err != nil {
				return "", err
			}
		}
		return s.checkRead(tx, c, in, a, &out)
	})
	if err == errMustWrite {
		if pre != nil {
			pre.stop() // there are messages: no wait from this read
			pre = nil
		}
		err = s.callAs(ctx, tool, &c, true, func(tx Tx, now time.Time) (string, error) {
			conv, _, err := s.authorizeMember(tx, &c, now)
			if err != nil {
				return "", err
			}
			out.Conversation, out.Member = conv, c.Session
			if out.Messages, err = tx.TakeUnread(c.ConversationID, c.Session, now.UTC().Truncate(time.Millisecond), s.cfg.PageSize); err != nil {
				return "", err
			}
			if out.Unread, err = s.unreadAfter(tx, c, len(out.Messages)); err != nil {
				return "", err
			}
			if err := s.describe(tx, &out); err != nil {
				return "", err
			}
			if len(out.Messages) == 0 && in.Wait > 0 {
				return fmt.Sprintf("delivered 0 messages; waiting up to %s", in.Wait), nil
			}
			return deliveredText(out.Messages, out.Unread), nil
		})
	}
	if err != nil || len(out.Messages) > 0 || in.Wait <= 0 || in.Peek || in.History {
		if err == nil && !in.Peek && !in.History {
			s.cfg.Events.MessagesDelivered(len(out.Messages))
		}
		return out, err
	}
	w := pre
	pre = nil // wait releases it
	out, err = s.wait(ctx, c, out, start.Add(in.Wait), start, w)
	if err == nil && len(out.Messages) > 0 {
		s.cfg.Events.MessagesDelivered(len(out.Messages))
		now := s.cfg.Now()
		for _, m := range out.Messages {
			s.cfg.Events.Woke(max(now.Sub(m.CreatedAt), 0))
		}
	}
	return out, err
}

// checkRead is the read-only part of CheckMessages: history, peek, or a
// check whose inbox is empty.
func (s *Service) checkRead(tx Tx, c Caller, in CheckInput, a authorized, out *Inbox) (string, error) {
	var err error
	out.Conversation, out.Member = a.conv, c.Session
	switch {
	case in.History:
		limit := in.Limit
		if limit == 0 {
			limit = s.cfg.MaxHistory
		}
		if out.Messages, err = tx.History(c.ConversationID, c.Session, in.AfterID, in.Since, limit); err != nil {
			return "", err
		}
		if out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session); err != nil {
			return "", err
		}
		return fmt.Sprintf("history: %d messages after id %d", len(out.Messages), in.AfterID), s.describeWith(tx, out, a.members)
	case in.Peek:
		if out.Messages, err = tx.PeekUnread(c.ConversationID, c.Session, s.cfg.PageSize); err != nil {
			return "", err
		}
		if out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session); err != nil {
			return "", err
		}
		return fmt.Sprintf("peeked at %d unread messages", len(out.Messages)), s.describeWith(tx, out, a.members)
	}
	out.Messages, out.Unread = nil, 0
	if err := s.describeWith(tx, out, a.members); err != nil {
		return "", err
	}
	if in.Wait > 0 {
		return fmt.Sprintf("delivered 0 messages; waiting up to %s", in.Wait), nil
	}
	return deliveredText(nil, 0), nil
}

// unreadAfter is how many messages wait for the caller after a take of
// `taken` in the same transaction: none when the take was less than a page
// (it took every unread one), else the maintained counter.
func (s *Service) unreadAfter(tx Tx, c Caller, taken int) (int, error) {
	if taken < s.cfg.PageSize {
		return 0, nil
	}
	return tx.UnreadCount(c.ConversationID, c.Session)
}

func deliveredText(msgs []Message, more int) string {
	if len(msgs) == 0 {
		return "delivered 0 messages"
	}
	t := fmt.Sprintf("delivered %d messages (ids %d..%d)", len(msgs), msgs[0].ID, msgs[len(msgs)-1].ID)
	if more > 0 {
		t += fmt.Sprintf(", %d more waiting", more)
	}
	return t
}

// waitStart is what a waiting check_messages knows from its own read
// before it waits: a watch of the caller's inbox taken before that read
// (so no write after it is missed), the caller's stored heartbeat, and the
// conversation's reassignment threshold (0 when unset). The wait's first
// round starts from it instead of watching and reading again.
type waitStart struct {
	changed       <-chan struct{}
	stop          func()
	heartbeat     time.Time
	reassignAfter time.Duration
}

// wait blocks until a message for the caller arrives, then takes it, as
// the caller's check_messages would. It wakes on every write to the store
// (by any process), re-checks with a read-only transaction, and writes
// only to deliver, to keep the caller's heartbeat fresh, or to end. It
// never takes messages for a caller that has gone: the taking transaction
// commits only while ctx is live. With pre, the first round is the check's
// own read (see waitStart); pre's watch is released here.
func (s *Service) wait(ctx context.Context, c Caller, first Inbox, deadline, start time.Time, pre *waitStart) (Inbox, error) {
	const tool = "check_messages"
	conv := first.Conversation
	out := first
	key := followKey(c.ConversationID, c.Session)
	defer s.follows.waitBegins(key)()
	s.waiters.Add(1)
	defer s.waiters.Add(-1)
	lastBeat := start
	// A waiting member is alive: its heartbeat is kept younger than the
	// alive window and than the reassignment threshold, so waiting never
	// costs it its task.
	beatEvery := min(s.cfg.AliveWindow, s.reassignAfter()) / 3
	// Only writes that raise this member's inbox topics wake the wait; an
	// idle waiter pays nothing for other conversations' traffic. Each round
	// watches again before it reads, and releases the previous watch only
	// then, so no write slips between and the store keeps one watch.
	topics := InboxTopics(c.ConversationID, c.Session)
	stop := func() {}
	defer func() { stop() }()
	for first := true; ; first = false {
		var unread int
		var heartbeat time.Time
		var changed <-chan struct{}
		var err error
		now := s.cfg.Now()
		ended := !now.Before(deadline)
		if first && pre != nil {
			// The check's own read, under a watch taken before it, found
			// nothing unread: the first round starts from that read.
			changed, stop = pre.changed, pre.stop
			heartbeat = pre.heartbeat
			if ra := pre.reassignAfter; ra > 0 && ra/3 < beatEvery {
				beatEvery = ra / 3
			}
		} else {
			var stopNext func()
			changed, stopNext = s.store.Watch(topics...)
			stop()
			stop = stopNext
			now = s.cfg.Now()
			ended = !now.Before(deadline)
			err = s.store.View(context.WithoutCancel(ctx), func(tx Tx) error {
				cv, err := tx.Conversation(c.ConversationID)
				if err != nil {
					return err
				}
				if cv.Expired(now) {
					return s.expired(cv)
				}
				conv = cv // extend_conversation may have moved the expiry
				m, err := tx.Member(c.ConversationID, c.Session)
				if err != nil {
					return err
				}
				if !m.Active() {
					return Errorf(EUnauthorized, "member %s left conversation %s (or was removed) while waiting: its token no longer works.", c.Session, c.ConversationID)
				}
				unread, heartbeat = m.Unread, m.Heartbeat
				// The conversation's threshold, on the first round and when a
				// beat is due: a change to it is broadcast to every member,
				// which ends this wait anyway.
				if first || now.Sub(lastBeat) >= beatEvery {
					if ra, err := tx.ReassignAfter(c.ConversationID); err != nil {
						return err
					} else if ra > 0 && ra/3 < beatEvery {
						beatEvery = ra / 3
					}
				}
				return nil
			})
		}
		if err != nil {
			return out, s.Refuse(ctx, tool, c.ConversationID, c.Session, err)
		}
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		switch {
		case unread == 0 && ended:
			// A wait that found nothing changed nothing: its audit row
			// and heartbeat go to the journal.
			at := now.UTC().Truncate(time.Millisecond)
			s.queue(record{at: now, conv: c.ConversationID, sess: c.Session, tool: tool, touch: at,
				detail: fmt.Sprintf("%s after waiting %s", deliveredText(nil, 0), now.Sub(start).Round(time.Millisecond))})
			out.Messages, out.Unread = nil, 0
			out.Waited = now.Sub(start)
			return out, nil
		case unread > 0:
			err := s.callAs(ctx, tool, &c, true, func(tx Tx, now time.Time) (string, error) {
				s.follows.taking(key)
				// Heartbeats only move forward: one read just now that is
				// younger than a second needs no write (as in authorize).
				if at := now.UTC().Truncate(time.Millisecond); at.Sub(heartbeat) >= heartbeatEvery {
					if err := tx.Touch(c.ConversationID, c.Session, at); err != nil {
						return "", err
					}
				}
				msgs, err := tx.TakeUnread(c.ConversationID, c.Session, now.UTC().Truncate(time.Millisecond), s.cfg.PageSize)
				if err != nil {
					return "", err
				}
				out.Messages = msgs
				if out.Unread, err = s.unreadAfter(tx, c, len(msgs)); err != nil {
					return "", err
				}
				if err := s.describe(tx, &out); err != nil {
					return "", err
				}
				return fmt.Sprintf("%s after waiting %s", deliveredText(msgs, out.Unread), now.Sub(start).Round(time.Millisecond)), nil
			})
			if err != nil {
				return out, err
			}
			// Another check by the same member may have taken the
			// messages first: then keep waiting.
			if len(out.Messages) > 0 || ended {
				out.Waited = s.cfg.Now().Sub(start)
				return out, nil
			}
		case now.Sub(lastBeat) >= beatEvery:
			// A waiting member is alive: keep its heartbeat fresh. The
			// beat touches the conversation, so it also reopens the tasks
			// of silent assignees (a waiting orchestrator is enough); it
			// writes only when one is due.
			s.queue(record{at: now, conv: c.ConversationID, sess: c.Session, touch: now.UTC().Truncate(time.Millisecond)})
			if _, err := s.reassignConversation(ctx, c.ConversationID); err != nil {
				return out, err
			}
			lastBeat = now
		}
		next := deadline
		if conv.ExpiresAt.Before(next) {
			next = conv.ExpiresAt
		}
		if hb := lastBeat.Add(beatEvery); hb.Before(next) {
			next = hb
		}
		if err := sleep(ctx, changed, next.Sub(now)); err != nil {
			return out, err
		}
	}
}

// Peek returns the caller's unread messages (a page) without marking them
// read, taking nothing from its rate limit and writing nothing: it serves
// MCP resource reads and update notifications, which clients make on their
// own.
func (s *Service) Peek(ctx context.Context, c Caller) (Inbox, error) {
	if err := s.checkShape(c); err != nil {
		return Inbox{}, err
	}
	var out Inbox
	now := s.cfg.Now()
	err := s.store.View(ctx, func(tx Tx) (err error) {
		a, err := s.authenticate(tx, &c)
		if err != nil {
			return err
		}
		out.Conversation = a.conv
		if out.Conversation.Expired(now) {
			return s.expired(out.Conversation)
		}
		out.Member = c.Session
		if out.Messages, err = tx.PeekUnread(c.ConversationID, c.Session, s.cfg.PageSize); err != nil {
			return err
		}
		if out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session); err != nil {
			return err
		}
		return s.describe(tx, &out)
	})
	return out, err
}
