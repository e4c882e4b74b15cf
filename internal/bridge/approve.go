package bridge

import (
	"context"
	"fmt"
	"time"
)

// The person's side of YOLO mode, for `agent-bridge approve`: see what
// agents ask, decide, and end enablements. These trust their caller (who
// can read the database and key file) and are audited.

// ApprovalView is an approval with the conversation it belongs to.
type ApprovalView struct {
	Approval
	Conversation Conversation
	StateNow     string // StateAt the time of reading
}

// Prompt is what the person reads before deciding.
func (v ApprovalView) Prompt() string { return ConsentPrompt(v.Approval, v.Conversation) }

// Approvals returns the approvals in the given states at now (pending,
// approved, active, ... or "expired"), oldest first; all when states is
// empty.
func (s *Service) Approvals(ctx context.Context, states ...string) ([]ApprovalView, error) {
	now := s.cfg.Now()
	var out []ApprovalView
	err := s.store.View(ctx, func(tx Tx) error {
		all, err := tx.Approvals(ApprovalFilter{States: storedStates(states)})
		if err != nil {
			return err
		}
		convs := map[string]Conversation{}
		for _, a := range all {
			st := a.StateAt(now)
			if len(states) > 0 && !oneOf(st, states) {
				continue
			}
			c, ok := convs[a.ConversationID]
			if !ok {
				if c, err = tx.Conversation(a.ConversationID); err != nil {
					return err
				}
				convs[a.ConversationID] = c
			}
			out = append(out, ApprovalView{Approval: a, Conversation: c, StateNow: st})
		}
		return nil
	})
	return out, err
}

// storedStates are the stored states that can be in states at some time:
// "expired" is derived from pending, approved and active ones. nil (all)
// for nil.
func storedStates(states []string) []string {
	var out []string
	for _, st := range states {
		if st == ApprovalExpired {
			out = append(out, ApprovalPending, ApprovalApproved, ApprovalActive)
		} else {
			out = append(out, st)
		}
	}
	return out
}

// Approval returns one approval with its conversation.
func (s *Service) Approval(ctx context.Context, id string) (ApprovalView, error) {
	if !ValidApprovalID(id) {
		return ApprovalView{}, Errorf(EInvalid, "%q is not an approval id: it is appr_ followed by 16 hex digits (agent-bridge approve --list shows them).", id)
	}
	var v ApprovalView
	err := s.store.View(ctx, func(tx Tx) (err error) {
		if v.Approval, err = tx.Approval(id); err != nil {
			return err
		}
		v.Conversation, err = tx.Conversation(v.ConversationID)
		return err
	})
	v.StateNow = v.StateAt(s.cfg.Now())
	return v, err
}

// Decide records a person's decision on a pending request, made at a
// terminal. by says who decided; reason is kept with a denial.
func (s *Service) Decide(ctx context.Context, id string, approve bool, by, reason string) (Approval, error) {
	return s.DecideThrough(ctx, "cli:approve", ConsentChannel, id, approve, by, reason)
}

// DecideThrough is Decide for a front that names its own audit tool and
// consent channel (the web console).
func (s *Service) DecideThrough(ctx context.Context, tool, channel, id string, approve bool, by, reason string) (Approval, error) {
	v, err := s.Approval(ctx, id)
	if err != nil {
		return Approval{}, err
	}
	var a Approval
	err = s.call(ctx, tool, v.ConversationID, v.Session, func(tx Tx, now time.Time) (string, error) {
		var err error
		if a, err = s.approval(tx, id); err != nil {
			return "", err
		}
		if st := a.StateAt(now); st != ApprovalPending {
			return "", Errorf(EInvalid, "request %s is %s, not waiting for a decision.", id, st)
		}
		a.DecidedAt, a.DecidedBy = now.UTC().Truncate(time.Millisecond), by
		if approve {
			a.State, a.ExpiresAt = ApprovalApproved, a.DecidedAt.Add(s.cfg.Yolo.TokenTTL)
		} else {
			a.State, a.Reason = ApprovalDenied, reason
		}
		if err := tx.SaveApproval(s.seal(a)); err != nil {
			return "", err
		}
		what := fmt.Sprintf("%s mode in %s", a.Mode, a.Workspace)
		if a.Kind == KindCommand {
			what = "command sha256 " + a.CommandHash[:12]
		}
		d := fmt.Sprintf("%s %s (%s) through %s by %s", a.State, a.ID, what, channel, by)
		if reason != "" {
			d += ": " + reason
		}
		return d, nil
	})
	return a, err
}

// Revoke ends an enablement (active or approved and not yet started), or
// denies a pending request.
func (s *Service) Revoke(ctx context.Context, id, by string) (Approval, error) {
	v, err := s.Approval(ctx, id)
	if err != nil {
		return Approval{}, err
	}
	var a Approval
	err = s.call(ctx, "cli:revoke", v.ConversationID, v.Session, func(tx Tx, now time.Time) (string, error) {
		var err error
		if a, err = tx.Approval(id); err != nil {
			return "", err
		}
		switch a.StateAt(now) {
		case ApprovalActive, ApprovalApproved:
			a.State = ApprovalRevoked
		case ApprovalPending:
			a.State = ApprovalDenied
		default:
			return "", Errorf(EInvalid, "request %s is %s already; there is nothing to revoke.", id, a.StateAt(now))
		}
		a.Reason = "revoked by " + by
		a.DecidedAt = now.UTC().Truncate(time.Millisecond)
		if a.DecidedBy == "" {
			a.DecidedBy = by
		}
		if err := tx.SaveApproval(s.seal(a)); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s %s by %s", a.State, a.ID, by), nil
	})
	return a, err
}
