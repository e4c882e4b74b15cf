package bridge

import (
	"context"
	"fmt"
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
	err := s.callAs(ctx, "update_my_status", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		if !oneOf(status, Statuses) {
			return "", Errorf(EInvalid, "status must be one of %s.", quoteList(Statuses))
		}
		if _, _, err := s.authorizeMember(tx, &c, now); err != nil {
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
	// The partner, in a conversation of exactly two active members; a zero
	// SessionState (Session "") otherwise.
	SessionState
	Role    string
	Since   time.Duration // age of the heartbeat; meaningless when never seen
	Alive   bool
	Receipt Receipt // what became of the caller's messages (to everyone)
	Unread  int     // messages waiting for the caller
	Me      Member
	Team    []TeamMember // every active member, the caller included, in joining order
}

// PartnerStatus shows the whole team at a glance: each member's role, last
// status, whether it is alive (it made a call within the alive window),
// its unread count and how many of the caller's messages it has not read.
// In a two-member conversation it also reports the partner as before.
func (s *Service) PartnerStatus(ctx context.Context, c Caller) (PartnerState, error) {
	var out PartnerState
	err := s.callRead(ctx, "check_partner_status", &c, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		if _, _, err := s.authorizeMember(tx, &c, now); err != nil {
			return "", err
		}
		out.Me = c.Session
		members, err := tx.Members(c.ConversationID)
		if err != nil {
			return "", err
		}
		current, err := s.currentTasks(tx, c.ConversationID)
		if err != nil {
			return "", err
		}
		var others []TeamMember
		for _, m := range members {
			if !m.Active() {
				continue
			}
			m.Heartbeat = s.jr.beat(c.ConversationID, m.Member, m.Heartbeat)
			tm := TeamMember{Membership: m, You: m.Member == c.Session, Task: current[m.Member]}
			if !m.Heartbeat.IsZero() {
				tm.Since = max(now.Sub(m.Heartbeat), 0)
				tm.Alive = tm.Since < s.cfg.AliveWindow
			}
			if !tm.You {
				r, err := tx.Receipt(c.ConversationID, c.Session, m.Member)
				if err != nil {
					return "", err
				}
				tm.YourUnread = r.Unread
				others = append(others, tm)
			}
			out.Team = append(out.Team, tm)
		}
		if out.Receipt, err = tx.Receipt(c.ConversationID, c.Session, ""); err != nil {
			return "", err
		}
		if out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session); err != nil {
			return "", err
		}
		if len(others) == 1 {
			p := others[0]
			out.SessionState, out.Role, out.Since, out.Alive = p.State(), p.Role, p.Since, p.Alive
			return "partner " + p.Status, nil
		}
		return fmt.Sprintf("team of %d", len(out.Team)), nil
	})
	return out, err
}

// currentTasks maps each assignee to its current task (the lowest id among
// its working and input_required tasks), in one indexed read.
func (s *Service) currentTasks(tx TaskTx, conv string) (map[Member]Task, error) {
	ts, err := tx.Tasks(TaskFilter{ConversationID: conv, States: []string{TaskWorking, TaskInputRequired}})
	if err != nil {
		return nil, err
	}
	out := map[Member]Task{}
	for _, t := range ts {
		if _, ok := out[t.Assignee]; !ok && s.taskSealed(t) {
			out[t.Assignee] = t
		}
	}
	return out, nil
}
