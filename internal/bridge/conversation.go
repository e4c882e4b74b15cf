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
	TokenB       string
}

// CreateConversation starts a conversation; the caller becomes session a.
func (s *Service) CreateConversation(ctx context.Context, myRole, partnerRole string) (Created, error) {
	var out Created
	id, err := newConversationID()
	if err != nil {
		return out, err
	}
	err = s.call(ctx, "create_conversation", id, "", func(tx Tx, now time.Time) (string, error) {
		if err := s.checkRole("my_role", myRole); err != nil {
			return "", err
		}
		if err := s.checkRole("partner_role", partnerRole); err != nil {
			return "", err
		}
		if origin := originOf(ctx); origin != "" {
			if err := s.take(tx, "create_conversation/"+origin, s.cfg.CreatorLimits, now, "creating conversations from "+origin); err != nil {
				return "", err
			}
		}
		if err := s.take(tx, "create_conversation", s.cfg.CreateLimits, now, "creating conversations on this bridge, by every agent together,"); err != nil {
			return "", err
		}
		// 64 random bits: a collision is a broken random source, not bad luck.
		if _, err := tx.Conversation(id); KindOf(err) != ENotFound {
			if err != nil {
				return "", err
			}
			return "", fmt.Errorf("conversation id %s drawn twice", id)
		}
		c := Conversation{
			ID:        id,
			RoleA:     s.clean(myRole),
			RoleB:     s.clean(partnerRole),
			CreatedAt: now.UTC().Truncate(time.Millisecond),
			ExpiresAt: now.Add(s.cfg.TTL).UTC().Truncate(time.Second),
		}
		if err := tx.CreateConversation(c); err != nil {
			return "", err
		}
		if err := tx.Touch(c.ID, SessionA, c.CreatedAt); err != nil {
			return "", err
		}
		out = Created{Conversation: c, TokenA: s.key.Derive(c.ID, "a"), TokenB: s.key.Derive(c.ID, "b")}
		return "created, expires " + FormatTime(c.ExpiresAt), nil
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
