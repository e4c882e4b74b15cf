package bridge

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// checkNewMemberID checks an id chosen for a new seat.
func checkNewMemberID(arg string, id Member) error {
	if !id.Valid() {
		return Errorf(EInvalid, "%s %q is malformed: a member id is 1 to 32 characters of lower-case letters, digits, '-' and '_', starting with a letter (pattern %s), e.g. \"worker-3\".", arg, id, MemberIDPattern)
	}
	if slices.Contains(ReservedMemberIDs, string(id)) {
		return Errorf(EInvalid, "%s %q is reserved (%s are): choose another, e.g. \"worker-3\".", arg, id, quoteList(ReservedMemberIDs))
	}
	if id == SessionA {
		// Member a is the creator, who alone may remove members: no invite
		// can confer that seat, even after the creator left.
		return Errorf(EInvalid, "%s \"a\" belongs to the conversation's creator: choose another, e.g. \"worker-3\".", arg)
	}
	return nil
}

// roster is a conversation's seats at one moment: its active members and
// its open invites.
type roster struct {
	all     []Membership // every member ever, left ones included
	active  []Membership
	pending []Invite // neither redeemed nor expired
}

func (s *Service) team(tx Tx, conv string, now time.Time) (roster, error) {
	var r roster
	var err error
	if r.all, err = tx.Members(conv); err != nil {
		return r, err
	}
	for _, m := range r.all {
		if m.Active() {
			r.active = append(r.active, m)
		}
	}
	r.pending, err = tx.OpenInvites(conv, now)
	return r, err
}

// seats counts members and open invites.
func (r roster) seats() int { return len(r.active) + len(r.pending) }

func (r roster) member(id Member) (Membership, bool) {
	for _, m := range r.active {
		if m.Member == id {
			return m, true
		}
	}
	return Membership{}, false
}

func (r roster) ids() []string {
	out := make([]string, len(r.active))
	for i, m := range r.active {
		out[i] = string(m.Member)
	}
	return out
}

// free reports whether id can name a new seat.
func (r roster) free(arg string, id Member) error {
	if _, ok := r.member(id); ok {
		return Errorf(EInvalid, "%s %q is taken: the conversation already has a member with that id (members: %s). Choose another id.", arg, id, quoteList(r.ids()))
	}
	for _, inv := range r.pending {
		if inv.Member == id {
			return Errorf(EInvalid, "%s %q is taken by an open invite (it expires at %s). Choose another id.", arg, id, FormatTime(inv.ExpiresAt))
		}
	}
	return nil
}

var notIDChars = regexp.MustCompile(`[^a-z0-9_-]+`)

// suggest derives a free member id from a role: "Backend Worker" gives
// "backend-worker", then "backend-worker-2" if that is taken.
func (r roster) suggest(role string) Member {
	base := strings.Trim(notIDChars.ReplaceAllString(strings.ToLower(role), "-"), "-_")
	base = strings.TrimLeft(base, "0123456789-_")
	if len(base) > 28 {
		base = strings.TrimRight(base[:28], "-_")
	}
	if base == "" || slices.Contains(ReservedMemberIDs, base) {
		base = "member"
	}
	for n := 1; ; n++ {
		id := Member(base)
		if n > 1 {
			id = Member(fmt.Sprintf("%s-%d", base, n))
		}
		if r.free("", id) == nil {
			return id
		}
	}
}

// Left is the result of Leave.
type Left struct {
	ConversationID string
	Member         Member // who is no longer a member
	Removed        bool   // removed by the creator rather than leaving
}

// Leave ends a membership: the caller's own when target is "" or the
// caller, another member's when the caller created the conversation. The
// member's token stops working at once, in every process; rejoining needs
// a new invite.
func (s *Service) Leave(ctx context.Context, c Caller, target Member) (Left, error) {
	var out Left
	err := s.callAs(ctx, "leave_conversation", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		if target != "" && !target.Valid() {
			return "", Errorf(EInvalid, "member_id %q is malformed: pass the id of the member to remove (pattern %s), or omit it to leave yourself.", target, MemberIDPattern)
		}
		conv, _, err := s.authorizeMember(tx, &c, now)
		if err != nil {
			return "", err
		}
		if target == "" {
			target = c.Session
		}
		out = Left{ConversationID: conv.ID, Member: target, Removed: target != c.Session}
		if out.Removed && c.Session != SessionA {
			return "", Errorf(EForbidden, "only the conversation's creator (member a) can remove a member; you are %s. Omit member_id to leave yourself.", c.Session)
		}
		team, err := s.team(tx, conv.ID, now)
		if err != nil {
			return "", err
		}
		if _, ok := team.member(target); !ok {
			return "", Errorf(ENotFound, "conversation %s has no member %q (members: %s).", conv.ID, target, quoteList(team.ids()))
		}
		if err := tx.RemoveMember(conv.ID, target, now.UTC().Truncate(time.Millisecond), ""); err != nil {
			return "", err
		}
		// A wait of the member that left ends now, refused, in every process.
		tx.Signal(InboxTopic(conv.ID, target), ConversationTopic(conv.ID))
		if out.Removed {
			return fmt.Sprintf("member %s removed", target), nil
		}
		return fmt.Sprintf("member %s left", target), nil
	})
	return out, err
}

// TeamMember is one member as the team view shows it.
type TeamMember struct {
	Membership
	Since      time.Duration // age of the heartbeat; meaningless when never seen
	Alive      bool
	YourUnread int  // the caller's messages this member has not read
	You        bool // the caller
	Task       Task // its current task (working or input_required, lowest id); ID 0 when none
}
