package bridge

import (
	"context"
	"time"
)

// Management use cases, for the CLI. They trust their caller (whoever can
// read the database and key file) and are audited where they reveal
// secrets or change state.

// Overview summarises one conversation.
type Overview struct {
	Conversation Conversation
	Expired      bool
	States       [2]SessionState // a, b
	Unread       [2]int          // waiting for a, for b
	Members      []Membership    // every member, left ones included
	Messages     int
}

// Detail is a conversation with its states and every message.
type Detail struct {
	Overview
	All []Message
}

func overview(tx Tx, c Conversation, now time.Time) (Overview, error) {
	o := Overview{Conversation: c, Expired: c.Expired(now)}
	var err error
	if o.Members, err = tx.Members(c.ID); err != nil {
		return o, err
	}
	for i, sess := range []Session{SessionA, SessionB} {
		st, err := tx.State(c.ID, sess)
		if err != nil {
			return o, err
		}
		o.States[i] = st
		if o.Unread[i], err = tx.UnreadCount(c.ID, sess); err != nil {
			return o, err
		}
	}
	return o, nil
}

// List returns every stored conversation, oldest first.
func (s *Service) List(ctx context.Context) ([]Overview, error) {
	var out []Overview
	now := s.cfg.Now()
	err := s.store.View(ctx, func(tx Tx) error {
		convs, err := tx.Conversations()
		if err != nil {
			return err
		}
		for _, c := range convs {
			o, err := overview(tx, c, now)
			if err != nil {
				return err
			}
			msgs, err := tx.Messages(c.ID)
			if err != nil {
				return err
			}
			o.Messages = len(msgs)
			out = append(out, o)
		}
		return nil
	})
	return out, err
}

// Show returns one conversation with its messages (as stored, redacted).
// It marks nothing read.
func (s *Service) Show(ctx context.Context, id string) (Detail, error) {
	var out Detail
	now := s.cfg.Now()
	err := s.store.View(ctx, func(tx Tx) error {
		c, err := tx.Conversation(id)
		if err != nil {
			return err
		}
		if out.Overview, err = overview(tx, c, now); err != nil {
			return err
		}
		if out.All, err = tx.Messages(id); err != nil {
			return err
		}
		out.Messages = len(out.All)
		return s.screen(tx, out.All)
	})
	return out, err
}

// Tokens recomputes the tokens of members a and b from the key, at their
// current generations ("" for a seat that is not a member). The disclosure
// is audited.
func (s *Service) Tokens(ctx context.Context, id string) (a, b string, err error) {
	err = s.call(ctx, "cli:tokens", id, "", func(tx Tx, _ time.Time) (string, error) {
		if !ValidConversationID(id) {
			return "", Errorf(EInvalid, "%q is not a conversation id (conv_ followed by 16 hex digits)", id)
		}
		if _, err := tx.Conversation(id); err != nil {
			return "", err
		}
		for _, m := range []struct {
			id  Member
			tok *string
		}{{SessionA, &a}, {SessionB, &b}} {
			mb, err := tx.Member(id, m.id)
			if IsNotFound(err) || (err == nil && !mb.Active()) {
				continue
			}
			if err != nil {
				return "", err
			}
			*m.tok = s.key.DeriveMember(id, string(m.id), mb.Generation)
		}
		return "tokens disclosed to the command line", nil
	})
	return a, b, err
}

// MemberToken recomputes one active member's token from the key. The
// disclosure is audited.
func (s *Service) MemberToken(ctx context.Context, id string, member Member) (string, error) {
	var tok string
	err := s.call(ctx, "cli:tokens", id, member, func(tx Tx, _ time.Time) (string, error) {
		if !ValidConversationID(id) {
			return "", Errorf(EInvalid, "%q is not a conversation id (conv_ followed by 16 hex digits)", id)
		}
		if !member.Valid() {
			return "", Errorf(EInvalid, "%q is not a member id (pattern %s)", member, MemberIDPattern)
		}
		if _, err := tx.Conversation(id); err != nil {
			return "", err
		}
		m, err := tx.Member(id, member)
		if err != nil {
			return "", err
		}
		if !m.Active() {
			return "", Errorf(ENotFound, "member %s left %s at %s: it has no token; invite it again", member, id, FormatTime(m.LeftAt))
		}
		tok = s.key.DeriveMember(id, string(member), m.Generation)
		return "token of member " + string(member) + " disclosed to the command line", nil
	})
	return tok, err
}

// Audit returns audit rows, oldest first.
func (s *Service) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.store.View(ctx, func(tx Tx) (err error) {
		out, err = tx.Audit(f)
		return err
	})
	return out, err
}
