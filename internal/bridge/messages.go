package bridge

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agent-bridge/agent-bridge/internal/redact"
)

// SendInput is a message to the partner, before redaction.
type SendInput struct {
	Message    string
	ActionType string // "" means "info"
	Files      []string
}

// Sent is the result of Send.
type Sent struct {
	Message  Message        // as stored (redacted)
	Redacted []redact.Count // kinds removed from the message and files
	Unread   int            // messages waiting for the sender
}

// Send stores a message for the partner, redacted, durably, before returning.
func (s *Service) Send(ctx context.Context, c Caller, in SendInput) (Sent, error) {
	var out Sent
	err := s.call(ctx, "send_to_partner", c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkCaller(c); err != nil {
			return "", err
		}
		if err := s.checkSend(&in); err != nil {
			return "", err
		}
		if _, err := s.authorize(tx, c, now); err != nil {
			return "", err
		}
		body, findings := s.redactor.Redact(in.Message)
		files := make([]string, len(in.Files))
		for i, f := range in.Files {
			var ff []redact.Finding
			files[i], ff = s.redactor.Redact(f)
			findings = append(findings, ff...)
		}
		m := Message{
			ConversationID: c.ConversationID, From: c.Session, ActionType: in.ActionType,
			Body: body, Files: files, CreatedAt: now.UTC().Truncate(time.Millisecond),
		}
		if err := tx.AddMessage(&m); err != nil {
			return "", err
		}
		out = Sent{Message: m, Redacted: redact.Counts(findings)}
		var err error
		if out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session); err != nil {
			return "", err
		}
		detail := fmt.Sprintf("message %d, %s, %d chars, %d files", m.ID, m.ActionType, utf8.RuneCountInString(body), len(files))
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
	Messages     []Message
	Unread       int           // still unread for the caller after this call
	Waited       time.Duration // how long the call blocked
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

// CheckMessages returns the caller's unread messages, oldest first, and
// marks them read in the same transaction: each is delivered exactly once.
// With in.Wait it blocks until one arrives; Peek and History read without
// marking. Every call leaves an audit row, and so does every delivery made
// after waiting.
func (s *Service) CheckMessages(ctx context.Context, c Caller, in CheckInput) (Inbox, error) {
	const tool = "check_messages"
	var out Inbox
	start := s.cfg.Now()
	err := s.call(ctx, tool, c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkCaller(c); err != nil {
			return "", err
		}
		if err := s.checkCheck(in); err != nil {
			return "", err
		}
		conv, err := s.authorize(tx, c, now)
		if err != nil {
			return "", err
		}
		out.Conversation = conv
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
			return fmt.Sprintf("history: %d messages after id %d", len(out.Messages), in.AfterID), nil
		case in.Peek:
			if out.Messages, err = tx.PeekUnread(c.ConversationID, c.Session); err != nil {
				return "", err
			}
			out.Unread = len(out.Messages)
			return fmt.Sprintf("peeked at %d unread messages", len(out.Messages)), nil
		}
		if out.Messages, err = tx.TakeUnread(c.ConversationID, c.Session, now.UTC().Truncate(time.Millisecond)); err != nil {
			return "", err
		}
		if len(out.Messages) == 0 && in.Wait > 0 {
			return fmt.Sprintf("delivered 0 messages; waiting up to %s", in.Wait), nil
		}
		return deliveredText(out.Messages), nil
	})
	if err != nil || len(out.Messages) > 0 || in.Wait <= 0 || in.Peek || in.History {
		if err == nil && !in.Peek && !in.History {
			s.cfg.Events.MessagesDelivered(len(out.Messages))
		}
		return out, err
	}
	out, err = s.wait(ctx, c, out.Conversation, start.Add(in.Wait), start)
	if err == nil && len(out.Messages) > 0 {
		s.cfg.Events.MessagesDelivered(len(out.Messages))
		now := s.cfg.Now()
		for _, m := range out.Messages {
			s.cfg.Events.Woke(max(now.Sub(m.CreatedAt), 0))
		}
	}
	return out, err
}

func deliveredText(msgs []Message) string {
	if len(msgs) == 0 {
		return "delivered 0 messages"
	}
	return fmt.Sprintf("delivered %d messages (ids %d..%d)", len(msgs), msgs[0].ID, msgs[len(msgs)-1].ID)
}

// wait blocks until a message for the caller arrives, then takes it, as
// the caller's check_messages would. It wakes on every write to the store
// (by any process), re-checks with a read-only transaction, and writes
// only to deliver, to keep the caller's heartbeat fresh, or to end.
func (s *Service) wait(ctx context.Context, c Caller, conv Conversation, deadline, start time.Time) (Inbox, error) {
	const tool = "check_messages"
	out := Inbox{Conversation: conv}
	s.waiters.Add(1)
	defer s.waiters.Add(-1)
	lastBeat := start
	beatEvery := s.cfg.AliveWindow / 3
	for {
		changed := s.store.Changed() // before reading: no write can slip between
		now := s.cfg.Now()
		ended := !now.Before(deadline)
		var unread int
		err := s.store.View(context.WithoutCancel(ctx), func(tx Tx) error {
			cv, err := tx.Conversation(c.ConversationID)
			if err != nil {
				return err
			}
			if cv.Expired(now) {
				return s.expired(cv)
			}
			unread, err = tx.UnreadCount(c.ConversationID, c.Session)
			return err
		})
		if err != nil {
			return out, s.Refuse(ctx, tool, c.ConversationID, c.Session, err)
		}
		switch {
		case unread > 0 || ended:
			err := s.call(ctx, tool, c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
				if err := tx.Touch(c.ConversationID, c.Session, now); err != nil {
					return "", err
				}
				msgs, err := tx.TakeUnread(c.ConversationID, c.Session, now.UTC().Truncate(time.Millisecond))
				if err != nil {
					return "", err
				}
				out.Messages = msgs
				return fmt.Sprintf("%s after waiting %s", deliveredText(msgs), now.Sub(start).Round(time.Millisecond)), nil
			})
			if err != nil {
				return out, err
			}
			// Another check by the same session may have taken the
			// messages first: then keep waiting.
			if len(out.Messages) > 0 || ended {
				out.Waited = s.cfg.Now().Sub(start)
				return out, nil
			}
		case now.Sub(lastBeat) >= beatEvery:
			// A waiting session is alive: keep its heartbeat fresh.
			err := s.store.Update(context.WithoutCancel(ctx), func(tx Tx) error {
				return tx.Touch(c.ConversationID, c.Session, now)
			})
			if err != nil {
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

// Peek returns the caller's unread messages without marking them read,
// taking nothing from its rate limit and writing nothing: it serves MCP
// resource reads and update notifications, which clients make on their own.
func (s *Service) Peek(ctx context.Context, c Caller) (Inbox, error) {
	if err := s.checkCaller(c); err != nil {
		return Inbox{}, err
	}
	var out Inbox
	now := s.cfg.Now()
	err := s.store.View(ctx, func(tx Tx) (err error) {
		if out.Conversation, err = tx.Conversation(c.ConversationID); err != nil {
			return err
		}
		if out.Conversation.Expired(now) {
			return s.expired(out.Conversation)
		}
		out.Messages, err = tx.PeekUnread(c.ConversationID, c.Session)
		out.Unread = len(out.Messages)
		return err
	})
	return out, err
}

// Changed returns a channel closed after the next write to the store (see
// Store.Changed).
func (s *Service) Changed() <-chan struct{} { return s.store.Changed() }
