package bridge

import (
	"context"
	"fmt"
	"time"
)

// Activity is what a person running many agents wants to know about one
// session: who it is, what it said it is doing, and how long it has been
// quiet.
type Activity struct {
	Conversation Conversation
	Session      Session
	Role         string
	Status       string
	LastSeen     time.Time     // last call; zero when it never called
	Silence      time.Duration // since LastSeen
	Silent       bool          // Silence past the threshold
	Unread       int           // messages waiting for it
	Task         Task          // its current task; ID 0 when none
}

// Activity reports every active member of every unexpired conversation. A
// member is silent when it called at least once and not within
// silentAfter.
func (s *Service) Activity(ctx context.Context, silentAfter time.Duration) ([]Activity, error) {
	var out []Activity
	now := s.cfg.Now()
	err := s.store.View(ctx, func(tx Tx) error {
		return eachLive(tx, now, func(c Conversation) error {
			members, err := tx.Members(c.ID)
			if err != nil {
				return err
			}
			current, err := s.currentTasks(tx, c.ID)
			if err != nil {
				return err
			}
			for _, m := range members {
				if !m.Active() {
					continue
				}
				a := Activity{Conversation: c, Session: m.Member, Role: m.Role, Status: m.Status, LastSeen: m.Heartbeat, Unread: m.Unread, Task: current[m.Member]}
				if !m.Heartbeat.IsZero() {
					a.Silence = max(now.Sub(m.Heartbeat), 0)
					a.Silent = a.Silence >= silentAfter
				}
				out = append(out, a)
			}
			return nil
		})
	})
	return out, err
}

// eachLive calls fn for every conversation not expired at now, in the
// store's order, stopping at fn's first error.
func eachLive(tx Tx, now time.Time, fn func(Conversation) error) error {
	convs, err := tx.Conversations()
	if err != nil {
		return err
	}
	for _, c := range convs {
		if c.Expired(now) {
			continue
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// WatchEvent is a change a watchdog reports: a session fell silent, or
// came back.
type WatchEvent struct {
	Kind string // "silent" or "back"
	Activity
}

// Watchdog checks every session once. It reports each silence episode
// once, however many watchdogs run against the store, and each return;
// both are audited. With notify, the silent member's teammates (every other
// active member) receive a notice from the bridge.
func (s *Service) Watchdog(ctx context.Context, silentAfter time.Duration, notify bool) ([]WatchEvent, error) {
	acts, err := s.Activity(ctx, silentAfter)
	if err != nil {
		return nil, err
	}
	var events []WatchEvent
	for _, a := range acts {
		if a.LastSeen.IsZero() {
			continue // never started: not silent
		}
		var ev *WatchEvent
		err := s.call(ctx, "watchdog", a.Conversation.ID, a.Session, func(tx Tx, now time.Time) (string, error) {
			if a.Silent {
				fresh, err := tx.OpenSilence(a.Conversation.ID, a.Session, a.LastSeen, now)
				if err != nil || !fresh {
					return "", errf(err, errNothing)
				}
				ev = &WatchEvent{Kind: "silent", Activity: a}
				detail := fmt.Sprintf("session %s silent for %s (last status %s)", a.Session, a.Silence.Round(time.Second), a.Status)
				if notify {
					m := Message{
						ConversationID: a.Conversation.ID, From: a.Session, To: Broadcast, ActionType: "info", System: true,
						Body: fmt.Sprintf("Your partner (member %s, %s) has been silent for %s; its last status was %s. It may have stopped: check_partner_status shows when it is back.",
							a.Session, a.Role, a.Silence.Round(time.Second), a.Status),
						CreatedAt: now.UTC().Truncate(time.Millisecond),
					}
					if err := addMessage(tx, &m); err != nil {
						return "", err
					}
					detail += "; teammates notified"
				}
				return detail, nil
			}
			n, err := tx.CloseSilences(a.Conversation.ID, a.Session, a.LastSeen, now)
			if err != nil || n == 0 {
				return "", errf(err, errNothing)
			}
			ev = &WatchEvent{Kind: "back", Activity: a}
			return fmt.Sprintf("session %s back (status %s)", a.Session, a.Status), nil
		})
		if err != nil && err != errNothing {
			return events, err
		}
		if ev != nil && err == nil {
			events = append(events, *ev)
		}
	}
	return events, nil
}

// errNothing rolls back a watchdog check that found nothing to report; it
// is not audited.
var errNothing = Errorf("nothing", "nothing to report")

func errf(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// Extension is the result of Extend.
type Extension struct {
	Conversation Conversation
	Capped       bool // the maximum lifetime cut the extension short
	Unread       int  // messages waiting for the calling member
}

// Extend moves a conversation's expiry later by `by`, from now or from its
// current expiry, whichever is later, but never past its creation plus the
// maximum lifetime. The caller is a session (with its token), or nil for
// the management CLI.
func (s *Service) Extend(ctx context.Context, id string, c *Caller, by time.Duration) (Extension, error) {
	tool, sess := "cli:extend", Session("")
	if c != nil {
		tool, sess, id = "extend_conversation", c.Session, c.ConversationID
	}
	var out Extension
	caller := Caller{ConversationID: id, Session: sess}
	if c != nil {
		caller = *c
	}
	err := s.callAs(ctx, tool, &caller, false, func(tx Tx, now time.Time) (string, error) {
		if by <= 0 || by > s.cfg.MaxLifetime {
			return "", Errorf(EInvalid, "extend_by_seconds must be 1 to %d; it is %d.", int(s.cfg.MaxLifetime/time.Second), int(by/time.Second))
		}
		var conv Conversation
		var err error
		if c != nil {
			if conv, _, err = s.authorizeMember(tx, &caller, now); err != nil {
				return "", err
			}
		} else {
			if !ValidConversationID(id) {
				return "", Errorf(EInvalid, "%q is not a conversation id (conv_ followed by 16 hex digits)", id)
			}
			if conv, err = tx.Conversation(id); err != nil {
				return "", err
			}
		}
		from := conv.ExpiresAt
		if now.After(from) {
			from = now
		}
		want := from.Add(by).UTC().Truncate(time.Second)
		limit := conv.CreatedAt.Add(s.cfg.MaxLifetime).UTC().Truncate(time.Second)
		if want.After(limit) {
			want, out.Capped = limit, true
		}
		if !want.After(conv.ExpiresAt) {
			return "", Errorf(EInvalid, "conversation %s already lasts its maximum lifetime of %s (until %s); create a new conversation to go on.", conv.ID, Human(s.cfg.MaxLifetime), FormatTime(limit))
		}
		if err := tx.SetExpiry(conv.ID, want); err != nil {
			return "", err
		}
		conv.ExpiresAt = want
		out.Conversation = conv
		if c != nil {
			if out.Unread, err = tx.UnreadCount(conv.ID, caller.Session); err != nil {
				return "", err
			}
		}
		return "expires " + FormatTime(want), nil
	})
	return out, err
}
