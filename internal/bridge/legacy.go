package bridge

import (
	"context"
	"crypto/hmac"
	"fmt"
	"slices"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/audit"
)

// SealLegacy seals, once, the rows of a store upgraded from a schema
// without row MACs: every message, member and invite without a MAC gets
// one (messages in the legacy form, which no audit row needs to name), the
// global chain records what was sealed, and each existing conversation's
// chain opens with a row. From then on a row without a MAC is tampering.
// What was changed in the database before this runs cannot be told apart
// from what agent-bridge wrote. It does nothing (and reports false) when
// nothing waits to be sealed. Fronts call it when they start with the key.
//
// Sealing is refused, and the refusal recorded (audit --verify reports it),
// when the trail's newest row was written by this version: the mark was
// then re-created outside agent-bridge, to have rows inserted since sealed
// as legacy ones.
func (s *Service) SealLegacy(ctx context.Context) (LegacySealed, bool, error) {
	ctx = context.WithValue(ctx, sealingKey{}, true)
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
		if legacy, err := s.newestIsLegacy(tx); err != nil {
			return "", err
		} else if !legacy {
			if err := tx.DropLegacyMark(); err != nil {
				return "", err
			}
			vouch(tx, "rearmed")
			return "refused to seal rows as legacy: the upgrade mark was re-created outside agent-bridge after this database was already in the chained format; rows without a MAC are reported as tampering", nil
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

// sealingKey marks the context of SealLegacy's own call, which must not
// wait for sealing (ensureSealed).
type sealingKey struct{}

// ensureSealed seals the legacy rows, once per service, before its first
// call writes anything: no row in the new format may precede the sealing
// (see newestIsLegacy). Concurrent first calls wait for it.
func (s *Service) ensureSealed(ctx context.Context) error {
	if s.legacyDone.Load() || ctx.Value(sealingKey{}) != nil {
		return nil
	}
	s.legacyMu.Lock()
	defer s.legacyMu.Unlock()
	if s.legacyDone.Load() {
		return nil
	}
	if _, _, err := s.SealLegacy(ctx); err != nil {
		return err
	}
	s.legacyDone.Store(true)
	return nil
}

// newestIsLegacy reports whether the trail's newest row is in the format
// from before chains (or there is none): only then can rows without a MAC
// be legacy ones.
func (s *Service) newestIsLegacy(tx Tx) (bool, error) {
	last, err := tx.Audit(AuditFilter{Limit: 1})
	if err != nil || len(last) == 0 {
		return err == nil, err
	}
	e := last[0]
	return e.Chain == "" && e.Refs == "" && hmac.Equal([]byte(e.Digest), []byte(audit.LegacyDigest(s.auditKey, e.PrevDigest, auditRecord(e)))), nil
}

// legacyTrusted reports whether rows without a MAC may still be legacy
// rows waiting to be sealed: the upgrade mark is there and nothing has
// been written in the new format since.
func (s *Service) legacyTrusted(tx Tx) (bool, error) {
	if p, err := tx.LegacyPending(); err != nil || !p {
		return false, err
	}
	return s.newestIsLegacy(tx)
}
