package bridge

import (
	"cmp"
	"context"
	"slices"
	"strings"
)

// CheckAny is CheckMessages over several conversations the agent belongs
// to (one caller each, its own token): it takes the unread messages of the
// first that has any, in the order given, and with in.Wait blocks until a
// message reaches any of them. The Inbox names the conversation the
// messages came from. Peek and history read one conversation at a time.
func (s *Service) CheckAny(ctx context.Context, callers []Caller, in CheckInput) (Inbox, error) {
	if len(callers) == 1 {
		return s.CheckMessages(ctx, callers[0], in)
	}
	if in.Peek || in.History {
		return Inbox{}, s.Refuse(ctx, "check_messages", callers[0].ConversationID, callers[0].Session,
			Errorf(EInvalid, "also waits on more conversations: it cannot be combined with peek or history, which read one conversation; drop also, or drop peek and history."))
	}
	start := s.cfg.Now()
	// Take what is waiting now; this also checks every caller's token and
	// learns which member each token names.
	var first Inbox
	for i := range callers {
		out, err := s.CheckMessages(ctx, callers[i], CheckInput{})
		if err != nil || len(out.Messages) > 0 {
			return out, err
		}
		callers[i].Session = out.Member
		if i == 0 {
			first = out
		}
	}
	if in.Wait <= 0 {
		return first, nil
	}
	deadline := start.Add(in.Wait)
	var topics []string
	for _, c := range callers {
		topics = append(topics, inboxTopics(c.ConversationID, c.Session)...)
	}
	s.waiters.Add(1)
	defer s.waiters.Add(-1)
	lastBeat, beatEvery := start, s.cfg.AliveWindow/3
	stop := func() {}
	defer func() { stop() }()
	for {
		changed, stopNext := s.store.Watch(topics...)
		stop()
		stop = stopNext
		now := s.cfg.Now()
		if !now.Before(deadline) {
			first.Waited = now.Sub(start)
			return first, nil
		}
		ready := -1
		err := s.store.View(context.WithoutCancel(ctx), func(tx Tx) error {
			for i, c := range callers {
				m, err := tx.Member(c.ConversationID, c.Session)
				if err != nil {
					return err
				}
				if m.Unread > 0 {
					ready = i
					return nil
				}
			}
			return nil
		})
		if err != nil {
			return first, err
		}
		if ready >= 0 {
			out, err := s.CheckMessages(ctx, callers[ready], CheckInput{})
			if err != nil || len(out.Messages) > 0 {
				out.Waited = s.cfg.Now().Sub(start)
				return out, err
			}
		}
		if now.Sub(lastBeat) >= beatEvery {
			// Waiting members are alive, in every conversation waited on.
			// One row per conversation, touched in ascending order: such
			// writes of several conversations take no chain lock, and
			// cannot deadlock on rows with one another.
			byConv := slices.Clone(callers)
			slices.SortFunc(byConv, func(x, y Caller) int {
				return cmp.Or(strings.Compare(x.ConversationID, y.ConversationID), strings.Compare(string(x.Session), string(y.Session)))
			})
			err := s.store.Update(context.WithoutCancel(ctx), func(tx Tx) error {
				for _, c := range byConv {
					if err := tx.Touch(c.ConversationID, c.Session, now); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return first, err
			}
			lastBeat = now
		}
		next := deadline
		if hb := lastBeat.Add(beatEvery); hb.Before(next) {
			next = hb
		}
		if err := sleep(ctx, changed, next.Sub(now)); err != nil {
			return first, err
		}
	}
}
