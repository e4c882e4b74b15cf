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
// management use cases.

// ConsoleMember is one member of a conversation as the console shows it.
type ConsoleMember struct {
	ID       string
	Role     string
	Status   string    // StatusUnknown when never reported
	LastSeen time.Time // last call; zero when it never called
	Silent   bool      // called, but not within the silence threshold
	Unread   int       // messages waiting for it
	Task     Task      // its current task; ID 0 when none
}

// TeamConversation is one live conversation with its members.
type TeamConversation struct {
	Conversation Conversation
	Members      []ConsoleMember
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
		return eachLive(tx, now, func(c Conversation) error {
			msgs, err := tx.Messages(c.ID)
			if err != nil {
				return err
			}
			tc, err := s.teamConversation(tx, c, msgs, now, silentAfter)
			out = append(out, tc)
			return err
		})
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
		if err := s.screen(tx, msgs); err != nil {
			return err
		}
		tc, err = s.teamConversation(tx, c, msgs, now, silentAfter)
		return err
	})
	return tc, msgs, err
}

func (s *Service) teamConversation(tx Tx, c Conversation, msgs []Message, now time.Time, silentAfter time.Duration) (TeamConversation, error) {
	tc := TeamConversation{Conversation: c, LastActivity: c.CreatedAt}
	members, err := tx.Members(c.ID)
	if err != nil {
		return tc, err
	}
	current, err := s.currentTasks(tx, c.ID)
	if err != nil {
		return tc, err
	}
	for _, ms := range members {
		if !ms.Active() {
			continue
		}
		m := ConsoleMember{ID: string(ms.Member), Role: ms.Role, Status: ms.Status, LastSeen: ms.Heartbeat, Unread: ms.Unread, Task: current[ms.Member]}
		if !ms.Heartbeat.IsZero() {
			m.Silent = now.Sub(ms.Heartbeat) >= silentAfter
			if ms.Heartbeat.After(tc.LastActivity) {
				tc.LastActivity = ms.Heartbeat
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
			return "", Errorf(EInvalid, "choose who receives the notice: one or more members.")
		}
		conv, err := tx.Conversation(id)
		if err != nil {
			return "", err
		}
		if conv.Expired(now) {
			return "", Errorf(EExpired, "conversation %s expired at %s; its agents can no longer read notices.", id, FormatTime(conv.ExpiresAt))
		}
		members, err := tx.Members(id)
		if err != nil {
			return "", err
		}
		active := map[Member]bool{}
		var ids []string
		for _, m := range members {
			if m.Active() {
				active[m.Member] = true
				ids = append(ids, string(m.Member))
			}
		}
		body, findings := s.redactor.Redact(OperatorPrefix + text)
		seen := map[Member]bool{}
		for _, name := range to {
			r := Member(name)
			if !active[r] {
				return "", Errorf(EInvalid, "%q is not a member of %s: its members are %s.", name, id, quoteList(ids))
			}
			if seen[r] {
				continue
			}
			seen[r] = true
			// A bridge notice, from no member: agents see it as from the bridge.
			msg := Message{ConversationID: id, From: OperatorSender, To: r, ActionType: "info", System: true,
				Body: body, CreatedAt: now.UTC().Truncate(time.Millisecond)}
			if err := addMessage(tx, &msg); err != nil {
				return "", err
			}
			out = append(out, msg)
		}
		recipients := make([]string, 0, len(out))
		for _, m := range out {
			recipients = append(recipients, string(m.To))
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

// OperatorSender is the sender of the notices a person posts from the
// console: a reserved name, never a member's.
const OperatorSender Member = "bridge"

// Recipient is the member a stored message is addressed to (Broadcast for
// every member but its sender).
func (m Message) Recipient() Member { return m.To }
