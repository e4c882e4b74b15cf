package bridge

import (
	"context"
	"time"
)

// Reported is the result of UpdateStatus.
type Reported struct {
	SessionState
	Unread int // messages waiting for the caller
}

// UpdateStatus records the caller's status with a heartbeat at now.
func (s *Service) UpdateStatus(ctx context.Context, c Caller, status string) (Reported, error) {
	var out Reported
	err := s.call(ctx, "update_my_status", c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkCaller(c); err != nil {
			return "", err
		}
		if !oneOf(status, Statuses) {
			return "", Errorf(EInvalid, "status must be one of %s.", quoteList(Statuses))
		}
		if _, err := s.authorize(tx, c, now); err != nil {
			return "", err
		}
		at := now.UTC().Truncate(time.Millisecond)
		if err := tx.SetState(c.ConversationID, c.Session, status, at); err != nil {
			return "", err
		}
		out.SessionState = SessionState{Session: c.Session, Status: status, Heartbeat: at}
		var err error
		out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session)
		return "status " + status, err
	})
	return out, err
}

// PartnerState is the result of PartnerStatus.
type PartnerState struct {
	SessionState
	Role    string
	Since   time.Duration // age of the heartbeat; meaningless when never seen
	Alive   bool
	Receipt Receipt // what became of the caller's messages
	Unread  int     // messages waiting for the caller
}

// PartnerStatus reports the partner's last status, whether it is alive (it
// made a call within the alive window), and whether it read the caller's
// messages.
func (s *Service) PartnerStatus(ctx context.Context, c Caller) (PartnerState, error) {
	var out PartnerState
	err := s.call(ctx, "check_partner_status", c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkCaller(c); err != nil {
			return "", err
		}
		conv, err := s.authorize(tx, c, now)
		if err != nil {
			return "", err
		}
		p := c.Session.Partner()
		st, err := tx.State(c.ConversationID, p)
		if err != nil {
			return "", err
		}
		out.SessionState, out.Role = st, conv.Role(p)
		if !st.Heartbeat.IsZero() {
			out.Since = max(now.Sub(st.Heartbeat), 0)
			out.Alive = out.Since < s.cfg.AliveWindow
		}
		if out.Receipt, err = tx.Receipt(c.ConversationID, c.Session); err != nil {
			return "", err
		}
		if out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session); err != nil {
			return "", err
		}
		return "partner " + st.Status, nil
	})
	return out, err
}
