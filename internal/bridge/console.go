package bridge

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The person's web console reads the team through these. They trust their
// caller (who can read the database and key file), like the CLI's
// management use cases. They speak of members, not of the two fixed
// sessions, so the console need not change when conversations get more
// members: only Team below does.

// TeamMember is one member of a conversation as the console shows it.
type TeamMember struct {
	ID       string // today "a" or "b"
	Role     string
	Status   string    // StatusUnknown when never reported
	LastSeen time.Time // last call; zero when it never called
	Silent   bool      // called, but not within the silence threshold
	Unread   int       // messages waiting for it
}

// TeamConversation is one live conversation with its members.
type TeamConversation struct {
	Conversation Conversation
	Members      []TeamMember
	Messages     int
	// LastActivity is the latest of its last message and its members' last
	// calls; its creation when neither happened.
	LastActivity time.Time
}

// Team returns every unexpired conversation with its members, the most
// recently active first. A member is silent when it called at least once
// and not within silentAfter.
func (s *Service) Team(ctx context.Context, silentAfter time.Duration) ([]TeamConversation, error) {
	var out []TeamConversation
	now := s.cfg.Now()
	err := s.store.View(ctx, func(tx Tx) error {
		convs, err := tx.Conversations()
		if err != nil {
			return err
		}
		for _, c := range convs {
			if c.Expired(now) {
				continue
			}
			msgs, err := tx.Messages(c.ID)
			if err != nil {
				return err
			}
			tc, err := teamConversation(tx, c, msgs, now, silentAfter)
			if err != nil {
				return err
			}
			out = append(out, tc)
		}
		return nil
	})
	sortByActivity(out)
	return out, err
}

// TeamConversation returns one conversation (expired or not) with its
// members and every message, as stored (redacted). It marks nothing read.
func (s *Service) TeamConversation(ctx context.Context, id string, silentAfter time.Duration) (TeamConversation, []Message, error) {
	if !ValidConversationID(id) {
		return TeamConversation{}, nil, Errorf(EInvalid, "%q is not a conversation id (conv_ followed by 16 hex digits)", id)
	}
	var tc TeamConversation
	var msgs []Message
	now := s.cfg.Now()
	err := s.store.View(ctx, func(tx Tx) error {
		c, err := tx.Conversation(id)
		if err != nil {
			return err
		}
		if msgs, err = tx.Messages(id); err != nil {
			return err
		}
		tc, err = teamConversation(tx, c, msgs, now, silentAfter)
		return err
	})
	return tc, msgs, err
}

func teamConversation(tx Tx, c Conversation, msgs []Message, now time.Time, silentAfter time.Duration) (TeamConversation, error) {
	tc := TeamConversation{Conversation: c, LastActivity: c.CreatedAt}
	for _, sess := range []Session{SessionA, SessionB} {
		st, err := tx.State(c.ID, sess)
		if err != nil {
			return tc, err
		}
		n, err := tx.UnreadCount(c.ID, sess)
		if err != nil {
			return tc, err
		}
		m := TeamMember{ID: string(sess), Role: c.Role(sess), Status: st.Status, LastSeen: st.Heartbeat, Unread: n}
		if !st.Heartbeat.IsZero() {
			m.Silent = now.Sub(st.Heartbeat) >= silentAfter
			if st.Heartbeat.After(tc.LastActivity) {
				tc.LastActivity = st.Heartbeat
			}
		}
		tc.Members = append(tc.Members, m)
	}
	tc.Messages = len(msgs)
	if len(msgs) > 0 && msgs[len(msgs)-1].CreatedAt.After(tc.LastActivity) {
		tc.LastActivity = msgs[len(msgs)-1].CreatedAt
	}
	return tc, nil
}

func sortByActivity(cs []TeamConversation) {
	// Insertion sort keeps equal times in creation order; the list is short.
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].LastActivity.After(cs[j-1].LastActivity); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// OperatorPrefix opens every notice a person posts from the console, so an
// agent reads it as coming from the person who runs it, never from a
// member.
const OperatorPrefix = "Notice from the person running these agents (the operator, through agent-bridge console): "

// PostNotice delivers a notice written by the person running the agents to
// the given members of a live conversation, as a bridge notice (like the
// watchdog's): it is never from a member. The text is redacted before it
// is stored; by says who posted it, for the audit trail.
func (s *Service) PostNotice(ctx context.Context, id string, to []string, text, by string) ([]Message, error) {
	var out []Message
	err := s.call(ctx, "console:notice", id, "", func(tx Tx, now time.Time) (string, error) {
		if !ValidConversationID(id) {
			return "", Errorf(EInvalid, "%q is not a conversation id (conv_ followed by 16 hex digits)", id)
		}
		text = strings.TrimSpace(text)
		if text == "" {
			return "", Errorf(EInvalid, "the notice is empty: write what the agents should know.")
		}
		if why := storable(text); why != "" {
			return "", Errorf(EInvalid, "the notice %s", why)
		}
		if n := utf8.RuneCountInString(text); n > s.cfg.MaxMessageChars {
			return "", Errorf(ETooLarge, "the notice has %d characters; the limit is %d.", n, s.cfg.MaxMessageChars)
		}
		if len(to) == 0 {
			return "", Errorf(EInvalid, "choose who receives the notice: member a, member b, or both.")
		}
		conv, err := tx.Conversation(id)
		if err != nil {
			return "", err
		}
		if conv.Expired(now) {
			return "", Errorf(EExpired, "conversation %s expired at %s; its agents can no longer read notices.", id, FormatTime(conv.ExpiresAt))
		}
		body, findings := s.redactor.Redact(OperatorPrefix + text)
		seen := map[Session]bool{}
		for _, m := range to {
			r := Session(m)
			if !r.Valid() {
				return "", Errorf(EInvalid, "%q is not a member of %s: members are a and b.", m, id)
			}
			if seen[r] {
				continue
			}
			seen[r] = true
			// A bridge notice is stored From the recipient's partner and
			// delivered to the recipient, as the watchdog's are.
			msg := Message{ConversationID: id, From: r.Partner(), ActionType: "info", System: true,
				Body: body, CreatedAt: now.UTC().Truncate(time.Millisecond)}
			if err := tx.AddMessage(&msg); err != nil {
				return "", err
			}
			out = append(out, msg)
		}
		recipients := make([]string, 0, len(out))
		for _, m := range out {
			recipients = append(recipients, string(m.From.Partner()))
		}
		detail := fmt.Sprintf("operator notice to %s by %s, %d chars", strings.Join(recipients, ","), by, utf8.RuneCountInString(text))
		if len(findings) > 0 {
			detail += ", redacted"
		}
		return detail, nil
	})
	if err == nil {
		s.cfg.Events.MessagesStored(len(out))
	}
	return out, err
}

// Recipient is the member a stored message is addressed to.
func (m Message) Recipient() Session { return m.From.Partner() }
