package bridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

func newConversationID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("conversation id: %w", err)
	}
	return "conv_" + hex.EncodeToString(b[:]), nil
}

// Created is the result of CreateConversation. The tokens are secrets.
type Created struct {
	Conversation Conversation
	TokenA       string
	TokenB       string // "" when an invite was asked for instead
	Invite       Issued // zero unless an invite was asked for
}

// CreateInput is what Create needs.
type CreateInput struct {
	MyRole      string
	PartnerRole string
	// Invite asks for a one-time invite code for the partner's seat instead
	// of the partner's token: the creator never holds another member's
	// credential.
	Invite bool
	// PartnerID names the invited seat; "" means "b".
	PartnerID Member
}

// CreateConversation starts a conversation in the original shape: the
// caller becomes member a and receives both tokens. Create with Invite is
// the shape to prefer.
func (s *Service) CreateConversation(ctx context.Context, myRole, partnerRole string) (Created, error) {
	return s.Create(ctx, CreateInput{MyRole: myRole, PartnerRole: partnerRole})
}

// Create starts a conversation; the caller becomes member a. With
// in.Invite the partner's seat is an invite (see Invite); otherwise seat b
// is created at once and its token returned, unless the service requires
// invites.
func (s *Service) Create(ctx context.Context, in CreateInput) (Created, error) {
	var out Created
	id, err := newConversationID()
	if err != nil {
		return out, err
	}
	// The conversation's chain opens with this call's row; the global
	// chain records the creation, so deleting the whole conversation is
	// detected. The global chain's lock comes first (see Tx.Lock).
	c := Caller{}
	err = s.callAs(ctx, "create_conversation", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := tx.Lock(""); err != nil {
			return "", err
		}
		tx.Signal(ConversationsTopic) // raised only if the call commits
		if err := s.checkRole("my_role", in.MyRole); err != nil {
			return "", err
		}
		if err := s.checkRole("partner_role", in.PartnerRole); err != nil {
			return "", err
		}
		if !in.Invite && s.cfg.RequireInvites {
			return "", Errorf(EInvalid, "this bridge requires invites: call create_conversation again with invite true; you get an invite code for your partner instead of its token.")
		}
		partner := SessionB
		if in.PartnerID != "" {
			if !in.Invite {
				return "", Errorf(EInvalid, "partner_id names the invited seat: pass it with invite true, or omit it.")
			}
			if err := checkNewMemberID("partner_id", in.PartnerID); err != nil {
				return "", err
			}
			partner = in.PartnerID
		}
		if origin := originOf(ctx); origin != "" {
			if err := s.take(tx, "create_conversation/"+origin, "", s.cfg.CreatorLimits, now, "creating conversations from "+origin); err != nil {
				return "", err
			}
		}
		if err := s.take(tx, "create_conversation", "", s.cfg.CreateLimits, now, "creating conversations on this bridge, by every agent together,"); err != nil {
			return "", err
		}
		// 64 random bits: a collision is a broken random source, not bad luck.
		if _, err := tx.Conversation(id); KindOf(err) != ENotFound {
			if err != nil {
				return "", err
			}
			return "", fmt.Errorf("conversation id %s drawn twice", id)
		}
		cv := Conversation{
			ID:        id,
			RoleA:     s.clean(in.MyRole),
			RoleB:     s.clean(in.PartnerRole),
			CreatedAt: now.UTC().Truncate(time.Millisecond),
			ExpiresAt: now.Add(s.cfg.TTL).UTC().Truncate(time.Second),
		}
		if err := s.created(tx, now, "create_conversation", cv.ID); err != nil {
			return "", err
		}
		c.ConversationID = cv.ID
		if err := tx.CreateConversation(cv); err != nil {
			return "", err
		}
		if err := tx.AddMember(Membership{ConversationID: cv.ID, Member: SessionA, Role: cv.RoleA, JoinedAt: cv.CreatedAt, Heartbeat: cv.CreatedAt}); err != nil {
			return "", err
		}
		out = Created{Conversation: cv, TokenA: s.key.DeriveMember(cv.ID, "a", 0)}
		if in.Invite {
			var err error
			if out.Invite, err = s.issue(tx, cv, SessionA, partner, cv.RoleB, s.cfg.InviteTTL, now); err != nil {
				return "", err
			}
			return fmt.Sprintf("created with an invite for member %s, expires %s", partner, FormatTime(cv.ExpiresAt)), nil
		}
		if err := tx.AddMember(Membership{ConversationID: cv.ID, Member: SessionB, Role: cv.RoleB, JoinedAt: cv.CreatedAt}); err != nil {
			return "", err
		}
		out.TokenB = s.key.DeriveMember(cv.ID, "b", 0)
		return "created, expires " + FormatTime(cv.ExpiresAt), nil
	})
	return out, err
}

func (s *Service) checkRole(name, v string) error {
	n := utf8.RuneCountInString(v)
	if strings.TrimSpace(v) == "" || n < s.cfg.MinRoleChars || n > s.cfg.MaxRoleChars {
		return Errorf(EInvalid, "%s must be %d to %d characters describing the session's role (e.g. \"backend_developer\"); it has %d.", name, s.cfg.MinRoleChars, s.cfg.MaxRoleChars, n)
	}
	if why := storable(v); why != "" {
		return Errorf(EInvalid, "%s %s.", name, why)
	}
	return nil
}
