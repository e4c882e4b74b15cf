package bridge

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/lease"
)

// Lease is a member's claim on repository paths for a while: exclusive
// (nobody else may lease an overlapping path) or shared (others may share
// it, nobody may take it exclusively). Pattern is cleaned (lease.Clean).
type Lease struct {
	ConversationID string
	ID             int64
	Member         Member
	Pattern        string
	Exclusive      bool
	TaskID         int64 // 0 when tied to no task; released when the task ends or is reopened
	CreatedAt      time.Time
	ExpiresAt      time.Time
	MAC            string
}

// Live reports whether the lease holds at now.
func (l Lease) Live(now time.Time) bool { return now.Before(l.ExpiresAt) }

// Role names how the lease is held: "exclusive" or "shared".
func (l Lease) Role() string {
	if l.Exclusive {
		return "exclusive"
	}
	return "shared"
}

// Limits on leases.
const (
	MinLeaseTTL     = 10 * time.Second
	MaxLeaseTTL     = 24 * time.Hour
	DefaultLeaseTTL = time.Hour
	MaxLeasePaths   = 20 // patterns per lease call
)

// LeaseInput is what LeasePaths needs.
type LeaseInput struct {
	Paths     []string
	Exclusive bool
	TTL       time.Duration // 0: DefaultLeaseTTL
	TaskID    int64         // 0: none
}

// LeaseResult is the result of a lease action.
type LeaseResult struct {
	Leases []Lease
	Unread int
}

func checkTTL(ttl time.Duration) error {
	if ttl < MinLeaseTTL || ttl > MaxLeaseTTL {
		return Errorf(EInvalid, "ttl_seconds must be %d to %d (default %d); it is %d.", int(MinLeaseTTL/time.Second), int(MaxLeaseTTL/time.Second), int(DefaultLeaseTTL/time.Second), int(ttl/time.Second))
	}
	return nil
}

// cleanPaths validates and cleans lease patterns; the error names the
// entry and what to fix.
func cleanPaths(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, Errorf(EInvalid, "paths is required for lease: list the repository-relative paths or globs you will change, e.g. [\"src/auth/**\"].")
	}
	if len(paths) > MaxLeasePaths {
		return nil, Errorf(ETooLarge, "paths has %d entries; at most %d per call.", len(paths), MaxLeasePaths)
	}
	out := make([]string, len(paths))
	for i, p := range paths {
		c, err := lease.Clean(p)
		if err != nil {
			kind := EInvalid
			if len(p) > lease.MaxLen {
				kind = ETooLarge
			}
			return nil, Errorf(kind, "paths[%d] %s.", i, strings.TrimSuffix(err.Error(), "."))
		}
		out[i] = c
	}
	return out, nil
}

// liveLeases returns the conversation's live leases whose MAC verifies:
// a forged lease blocks nobody.
func (s *Service) liveLeases(tx LeaseTx, conv string, now time.Time) ([]Lease, error) {
	all, err := tx.Leases(conv, now)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, l := range all {
		if s.leaseSealed(l) {
			out = append(out, l)
		}
	}
	return out, nil
}

// conflict returns the first live lease of another member that a new
// lease of pattern by member would collide with.
func conflict(live []Lease, member Member, pattern string, exclusive bool) (Lease, bool) {
	for _, l := range live {
		if l.Member == member || !(exclusive || l.Exclusive) {
			continue
		}
		if lease.Overlap(pattern, l.Pattern) {
			return l, true
		}
	}
	return Lease{}, false
}

// LeasePaths leases paths or globs to the caller until now plus ttl. A
// pattern that overlaps another member's lease is refused when either is
// exclusive, naming the holder, its role and when its lease ends; then
// nothing is leased.
func (s *Service) LeasePaths(ctx context.Context, c Caller, in LeaseInput) (LeaseResult, error) {
	var out LeaseResult
	err := s.callAs(ctx, "tasks", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		paths, err := cleanPaths(in.Paths)
		if err != nil {
			return "", err
		}
		if in.TTL == 0 {
			in.TTL = DefaultLeaseTTL
		}
		if err := checkTTL(in.TTL); err != nil {
			return "", err
		}
		if in.TaskID < 0 {
			return "", Errorf(EInvalid, "task_id must be a task id or omitted; it is %d.", in.TaskID)
		}
		if _, _, err := s.authorizeMember(tx, &c, now); err != nil {
			return "", err
		}
		if in.TaskID != 0 {
			t, err := s.task(tx, c.ConversationID, in.TaskID)
			if err != nil {
				return "", err
			}
			if !t.Active() || t.Assignee != c.Session {
				return "", Errorf(EInvalid, "task_id %d is not a task you work on (it is %s, assigned to %s): tie a lease only to your own working task, or omit task_id.", t.ID, t.State, orNobody(t.Assignee))
			}
		}
		live, err := s.liveLeases(tx, c.ConversationID, now)
		if err != nil {
			return "", err
		}
		team, err := s.team(tx, c.ConversationID, now)
		if err != nil {
			return "", err
		}
		at := now.UTC().Truncate(time.Millisecond)
		for i, p := range paths {
			if l, ok := conflict(live, c.Session, p, in.Exclusive); ok {
				role := ""
				if m, ok := team.member(l.Member); ok {
					role = " (role " + m.Role + ")"
				}
				return "", Errorf(EConflict, "paths[%d] %q conflicts with lease %d on %q held %s by %s%s until %s: nothing was leased. Wait for it to end, ask %s to release it, or lease other paths%s.",
					i, p, l.ID, l.Pattern, exclusively(l), l.Member, role, FormatTime(l.ExpiresAt), l.Member, sharedHint(in.Exclusive, l.Exclusive))
			}
		}
		for _, p := range paths {
			id, err := tx.NextLeaseID(c.ConversationID)
			if err != nil {
				return "", err
			}
			l := s.sealLease(Lease{ConversationID: c.ConversationID, ID: id, Member: c.Session, Pattern: p, Exclusive: in.Exclusive,
				TaskID: in.TaskID, CreatedAt: at, ExpiresAt: at.Add(in.TTL)})
			if err := tx.AddLease(l); err != nil {
				return "", err
			}
			out.Leases = append(out.Leases, l)
			live = append(live, l)
		}
		tx.Signal(ConversationTopic(c.ConversationID))
		if out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session); err != nil {
			return "", err
		}
		return fmt.Sprintf("leased %d paths (%s) until %s", len(paths), out.Leases[0].Role(), FormatTime(at.Add(in.TTL))), nil
	})
	return out, err
}

func exclusively(l Lease) string {
	if l.Exclusive {
		return "exclusively"
	}
	return "shared"
}

func sharedHint(wantExclusive, heldExclusive bool) string {
	if wantExclusive && !heldExclusive {
		return " (a shared lease, exclusive false, may share it)"
	}
	return ""
}

// LeaseNotFound is the error stores return for an unknown lease.
func LeaseNotFound(conv string, id int64) error {
	return Errorf(ENotFound, "%s has no lease %d (it may have expired and been cleaned up). Call tasks with action leases to see the live ones.", conv, id)
}

// ownLease reads one of the caller's live leases for renew or release.
func (s *Service) ownLease(tx LeaseTx, c Caller, id int64, now time.Time) (Lease, error) {
	if id <= 0 {
		return Lease{}, Errorf(EInvalid, "lease_id is required: pass the id the lease action returned (action leases lists them).")
	}
	l, err := tx.Lease(c.ConversationID, id)
	if err != nil {
		return l, err
	}
	switch {
	case !s.leaseSealed(l):
		return Lease{}, Errorf(EUnauthorized, "lease %d was written or changed outside agent-bridge (its MAC does not verify), so it is not honoured.", id)
	case l.Member != c.Session:
		return Lease{}, Errorf(EForbidden, "lease %d is held by %s, not you (%s): only its holder can renew or release it.", id, l.Member, c.Session)
	case !l.Live(now):
		return Lease{}, Errorf(EExpired, "lease %d on %q expired at %s: lease the path again.", id, l.Pattern, FormatTime(l.ExpiresAt))
	}
	return l, nil
}

// RenewLease moves the end of one of the caller's live leases to now plus ttl.
func (s *Service) RenewLease(ctx context.Context, c Caller, id int64, ttl time.Duration) (LeaseResult, error) {
	var out LeaseResult
	err := s.callAs(ctx, "tasks", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		if ttl == 0 {
			ttl = DefaultLeaseTTL
		}
		if err := checkTTL(ttl); err != nil {
			return "", err
		}
		if _, _, err := s.authorizeMember(tx, &c, now); err != nil {
			return "", err
		}
		l, err := s.ownLease(tx, c, id, now)
		if err != nil {
			return "", err
		}
		l.ExpiresAt = now.UTC().Truncate(time.Millisecond).Add(ttl)
		l = s.sealLease(l)
		if err := tx.SaveLease(l); err != nil {
			return "", err
		}
		out.Leases = []Lease{l}
		if out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session); err != nil {
			return "", err
		}
		return fmt.Sprintf("lease %d renewed until %s", id, FormatTime(l.ExpiresAt)), nil
	})
	return out, err
}

// ReleaseLease ends one of the caller's live leases now.
func (s *Service) ReleaseLease(ctx context.Context, c Caller, id int64) (LeaseResult, error) {
	var out LeaseResult
	err := s.callAs(ctx, "tasks", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		if _, _, err := s.authorizeMember(tx, &c, now); err != nil {
			return "", err
		}
		l, err := s.ownLease(tx, c, id, now)
		if err != nil {
			return "", err
		}
		if err := tx.DeleteLease(c.ConversationID, id); err != nil {
			return "", err
		}
		tx.Signal(ConversationTopic(c.ConversationID))
		out.Leases = []Lease{l}
		if out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session); err != nil {
			return "", err
		}
		return fmt.Sprintf("lease %d on %q released", id, l.Pattern), nil
	})
	return out, err
}

// ListLeases returns the live leases of the caller's conversation.
func (s *Service) ListLeases(ctx context.Context, c Caller) (LeaseResult, error) {
	var out LeaseResult
	err := s.callAs(ctx, "tasks", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		if _, _, err := s.authorizeMember(tx, &c, now); err != nil {
			return "", err
		}
		var err error
		if out.Leases, err = s.liveLeases(tx, c.ConversationID, now); err != nil {
			return "", err
		}
		if out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session); err != nil {
			return "", err
		}
		return fmt.Sprintf("listed %d leases", len(out.Leases)), nil
	})
	return out, err
}
