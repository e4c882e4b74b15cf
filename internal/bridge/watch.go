package bridge

import (
	"context"
	"fmt"
	"time"
)

// Watch authenticates the caller once, then calls fn for every message
// addressed to the caller with an id above afterID, as it arrives, oldest
// first, until ctx is done or the conversation expires or is removed.
// Broadcasts appear once, like direct messages. It
// marks nothing read: the agent still receives each message from
// check_messages. It is for people and scripts watching a session; it is
// audited once and takes one request from the session's rate limit.
func (s *Service) Watch(ctx context.Context, c Caller, afterID int64, fn func(Message) error) error {
	err := s.callRead(ctx, "cli:watch", &c, func(tx Tx, now time.Time) (string, error) {
		_, _, err := s.authorizeMember(tx, &c, now)
		return "watching", err
	})
	if err != nil {
		return err
	}
	topics := InboxTopics(c.ConversationID, c.Session)
	stop := func() {}
	defer func() { stop() }()
	for {
		changed, stopNext := s.store.Watch(topics...)
		stop()
		stop = stopNext
		now := s.cfg.Now()
		var conv Conversation
		var msgs []Message
		err := s.store.View(context.WithoutCancel(ctx), func(tx Tx) (err error) {
			if conv, err = tx.Conversation(c.ConversationID); err != nil {
				return err
			}
			if conv.Expired(now) {
				return s.expired(conv)
			}
			if msgs, err = tx.History(c.ConversationID, c.Session, afterID, time.Time{}, s.cfg.MaxHistory); err != nil {
				return err
			}
			return s.screen(tx, msgs)
		})
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if err := fn(m); err != nil {
				return fmt.Errorf("watch: %w", err)
			}
			afterID = m.ID
		}
		if len(msgs) == s.cfg.MaxHistory {
			continue // more are waiting
		}
		if err := sleep(ctx, changed, conv.ExpiresAt.Sub(now)); err != nil {
			return err
		}
	}
}

// sleep waits until changed is closed, d has passed, or ctx is done; only
// the last returns an error (ctx's).
func sleep(ctx context.Context, changed <-chan struct{}, d time.Duration) error {
	timer := time.NewTimer(max(d, 0))
	defer timer.Stop()
	select {
	case <-changed:
	case <-timer.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}
