package bridge

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// SealLegacy seals, once, the rows of a store upgraded from a schema
// without row MACs: every message, member and invite without a MAC gets
// one (messages in the legacy form, which no audit row needs to name), the
// global chain records what was sealed, and each existing conversation's
// chain opens with a row. From then on a row without a MAC is tampering.
// What was changed in the database before this runs cannot be told apart
// from what agent-bridge wrote. It does nothing (and reports false) when
// nothing waits to be sealed. Fronts call it when they start with the key.
func (s *Service) SealLegacy(ctx context.Context) (LegacySealed, bool, error) {
	var pending bool
	if err := s.store.View(ctx, func(tx Tx) (err error) {
		pending, err = tx.LegacyPending()
		return err
	}); err != nil || !pending {
		return LegacySealed{}, false, err
	}
	var out LegacySealed
	done := false
	err := s.call(ctx, "cli:seal-legacy", "", "", func(tx Tx, now time.Time) (string, error) {
		if err := tx.Lock(""); err != nil {
			return "", err
		}
		if p, err := tx.LegacyPending(); err != nil || !p {
			return "", errf(err, errNothing) // another process sealed them first
		}
		convs, err := tx.Conversations()
		if err != nil {
			return "", err
		}
		ids := make([]string, len(convs))
		for i, c := range convs {
			ids[i] = c.ID
		}
		slices.Sort(ids)
		if err := tx.Lock(ids...); err != nil {
			return "", err
		}
		if out, err = tx.SealLegacy(Sealer{
			Message: func(m Message) string { return s.messageMAC(legacyMessageTag, m) },
			Member:  s.memberMAC,
			Invite:  s.inviteMAC,
		}); err != nil {
			return "", err
		}
		refs := []string{fmt.Sprintf("legacy:%d:%d:%d:%d", out.Messages, out.Members, out.Invites, out.ThroughMessage)}
		for _, id := range ids {
			refs = append(refs, "live:"+id)
			if _, err := s.appendTo(tx, id, AuditEntry{At: now, Tool: "cli:seal-legacy", ConversationID: id, Outcome: OutcomeOK,
				Detail: "chain opened: the conversation predates per-conversation chains; its earlier rows are in the global chain"}); err != nil {
				return "", err
			}
		}
		vouch(tx, refs...)
		done = true
		return fmt.Sprintf("sealed %d legacy rows written before row MACs: %d messages through id %d, %d members, %d invites; %d conversations' chains opened",
			out.Messages+out.Members+out.Invites, out.Messages, out.ThroughMessage, out.Members, out.Invites, len(ids)), nil
	})
	if err == errNothing {
		err = nil
	}
	return out, done, err
}
