package bridge

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"
)

// An invite code is 12 Crockford base32 characters (60 random bits), shown
// as XXXX-XXXX-XXXX. Only a keyed hash of it is stored.
const (
	inviteCodeChars = 12
	crockford       = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	// InviteCodePattern is the shape of an invite code as a tool accepts
	// it: case-insensitive, dashes and spaces ignored.
	InviteCodePattern = `^[0-9A-Za-z -]{12,20}$`
)

// Issued is an invite as its creator receives it: the code is shown once
// and never stored.
type Issued struct {
	Code           string // XXXX-XXXX-XXXX
	ConversationID string
	Member         Member // "" when the joiner chooses
	Role           string
	ExpiresAt      time.Time
}

func newInviteCode() (string, error) {
	var b [inviteCodeChars]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("invite code: %w", err)
	}
	var out strings.Builder
	for i, v := range b {
		if i > 0 && i%4 == 0 {
			out.WriteByte('-')
		}
		out.WriteByte(crockford[v&31])
	}
	return out.String(), nil
}

// NormalizeInviteCode returns the 12 characters of an invite code in
// canonical form (upper case, no separators, O read as 0 and I, L as 1, as
// Crockford base32 allows), or false when it cannot be one.
func NormalizeInviteCode(code string) (string, bool) {
	var out strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if r > 127 || !strings.ContainsRune(crockford, r) {
			return "", false
		}
		out.WriteRune(r)
	}
	if out.Len() != inviteCodeChars {
		return "", false
	}
	return out.String(), true
}

func (s *Service) inviteHash(normalized string) string { return s.key.MAC("invite", normalized) }

// InviteInput describes the seat an invite offers.
type InviteInput struct {
	Member Member        // "" lets the joiner choose (or derives one from the role)
	Role   string        // the new member's role
	TTL    time.Duration // 0 means the service's default
}

// Invite mints a one-time invite code for a new seat in the caller's
// conversation. Any member may invite. The code is returned only here; the
// inviter never sees, and cannot derive, the joiner's token.
func (s *Service) Invite(ctx context.Context, c Caller, in InviteInput) (Issued, error) {
	var out Issued
	err := s.callAs(ctx, "invite_member", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		if err := s.checkRole("role", in.Role); err != nil {
			return "", err
		}
		if in.Member != "" {
			if err := checkNewMemberID("member_id", in.Member); err != nil {
				return "", err
			}
		}
		maxTTL := s.cfg.MaxLifetime
		if in.TTL < 0 || in.TTL > maxTTL {
			return "", Errorf(EInvalid, "expires_in_seconds must be 60 to %d (default %d); it is %d.", int(maxTTL/time.Second), int(s.cfg.InviteTTL/time.Second), int(in.TTL/time.Second))
		}
		if in.TTL == 0 {
			in.TTL = s.cfg.InviteTTL
		}
		if in.TTL < time.Minute {
			return "", Errorf(EInvalid, "expires_in_seconds must be at least 60: the joiner needs time to paste the code.")
		}
		conv, _, err := s.authorizeMember(tx, &c, now)
		if err != nil {
			return "", err
		}
		if out, err = s.issue(tx, conv, c.Session, in.Member, s.clean(in.Role), in.TTL, now); err != nil {
			return "", err
		}
		who := string(out.Member)
		if who == "" {
			who = "a member id the joiner chooses"
		}
		return fmt.Sprintf("invite for %s (%s), expires %s", who, out.Role, FormatTime(out.ExpiresAt)), nil
	})
	return out, err
}

// issue stores an invite for a seat after checking that the seat's id is
// free and the conversation has room for it.
func (s *Service) issue(tx Tx, conv Conversation, by, member Member, role string, ttl time.Duration, now time.Time) (Issued, error) {
	team, err := s.team(tx, conv.ID, now)
	if err != nil {
		return Issued{}, err
	}
	if n := team.seats(); n >= s.cfg.MaxMembers {
		return Issued{}, Errorf(EInvalid, "conversation %s is full: it has %d members and %d open invites, and holds at most %d. Ask its creator to remove a member, or wait for an open invite to expire.",
			conv.ID, len(team.active), len(team.pending), s.cfg.MaxMembers)
	}
	if member != "" {
		if err := team.free("member_id", member); err != nil {
			return Issued{}, err
		}
	}
	code, err := newInviteCode()
	if err != nil {
		return Issued{}, err
	}
	norm, _ := NormalizeInviteCode(code)
	at := now.UTC().Truncate(time.Millisecond)
	inv := Invite{
		CodeHash: s.inviteHash(norm), ConversationID: conv.ID, Member: member, Role: role, CreatedBy: by,
		CreatedAt: at, ExpiresAt: earlier(at.Add(ttl), conv.ExpiresAt).UTC().Truncate(time.Second),
	}
	if err := tx.AddInvite(inv); err != nil {
		return Issued{}, err
	}
	return Issued{Code: code, ConversationID: conv.ID, Member: member, Role: role, ExpiresAt: inv.ExpiresAt}, nil
}

// Joined is the result of Join. Token is the new member's secret, returned
// only to the joiner.
type Joined struct {
	Conversation Conversation
	Member       Member
	Role         string
	Token        string
	Members      []Membership // the team after joining, active members only
	InvitedBy    Member
}

// Join redeems an invite code: the caller becomes a member and receives
// its own token. The code alone names the conversation. A code works once.
func (s *Service) Join(ctx context.Context, code string, member Member) (Joined, error) {
	var out Joined
	c := Caller{}
	err := s.callAs(ctx, "join_conversation", &c, false, func(tx Tx, now time.Time) (string, error) {
		norm, ok := NormalizeInviteCode(code)
		if !ok {
			return "", Errorf(EInvalid, "invite_code must be the 12-character code a member gave you, shown as XXXX-XXXX-XXXX (letters and digits; case, dashes and spaces do not matter).")
		}
		if member != "" {
			if err := checkNewMemberID("member_id", member); err != nil {
				return "", err
			}
		}
		inv, err := tx.Invite(s.inviteHash(norm))
		if err != nil {
			return "", err
		}
		// The code named the conversation: take its lock, then read the
		// invite again under it.
		if err := tx.Lock(inv.ConversationID); err != nil {
			return "", err
		}
		if inv, err = tx.Invite(inv.CodeHash); err != nil {
			return "", err
		}
		if ok, err := s.inviteGenuine(tx, inv); err != nil || !ok {
			return "", errf(err, Errorf(EUnauthorized, "this invite was written or changed in the database outside agent-bridge (its MAC does not verify), so it is not honoured. Ask a member for a new invite."))
		}
		c.ConversationID = inv.ConversationID
		if !inv.RedeemedAt.IsZero() {
			return "", Errorf(EUnauthorized, "this invite code was already used (at %s): a code works once. Ask a member of the conversation for a new invite.", FormatTime(inv.RedeemedAt))
		}
		if !now.Before(inv.ExpiresAt) {
			return "", Errorf(EExpired, "this invite code expired at %s. Ask a member of the conversation for a new invite.", FormatTime(inv.ExpiresAt))
		}
		conv, err := tx.Conversation(inv.ConversationID)
		if err != nil {
			return "", err
		}
		if conv.Expired(now) {
			return "", s.expired(conv)
		}
		team, err := s.team(tx, conv.ID, now)
		if err != nil {
			return "", err
		}
		switch {
		case inv.Member != "" && member != "" && member != inv.Member:
			return "", Errorf(EInvalid, "this invite is for member id %q: omit member_id, or pass %q.", inv.Member, inv.Member)
		case inv.Member != "":
			member = inv.Member
		case member == "":
			member = team.suggest(inv.Role)
		}
		team.pending = dropInvite(team.pending, inv.CodeHash)
		if err := team.free("member_id", member); err != nil {
			return "", err
		}
		if len(team.active) >= s.cfg.MaxMembers {
			return "", Errorf(EInvalid, "conversation %s is full: it holds at most %d members. Ask its creator to remove a member first.", conv.ID, s.cfg.MaxMembers)
		}
		if ok, err := tx.RedeemInvite(inv.CodeHash, member, now, ""); err != nil || !ok {
			return "", errf(err, Errorf(EUnauthorized, "this invite code was already used: a code works once. Ask a member of the conversation for a new invite."))
		}
		gen := 1
		for _, old := range team.all {
			if old.Member == member {
				gen = old.Generation + 1 // a rejoin: no earlier token works again
			}
		}
		at := now.UTC().Truncate(time.Millisecond)
		m := Membership{ConversationID: conv.ID, Member: member, Role: inv.Role, Generation: gen, Status: StatusUnknown, Heartbeat: at, JoinedAt: at}
		if err := tx.AddMember(m); err != nil {
			return "", err
		}
		c.Session = member
		out = Joined{Conversation: conv, Member: member, Role: inv.Role, Token: s.key.DeriveMember(conv.ID, string(member), gen),
			Members: append(team.active, m), InvitedBy: inv.CreatedBy}
		return fmt.Sprintf("member %s joined (%s) by invite from %s, generation %d", member, inv.Role, inv.CreatedBy, gen), nil
	})
	return out, err
}

func dropInvite(invs []Invite, hash string) []Invite {
	out := invs[:0:0]
	for _, inv := range invs {
		if inv.CodeHash != hash {
			out = append(out, inv)
		}
	}
	return out
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
