package bridge

import (
	"context"
	"crypto/hmac"
	"errors"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/audit"
)

// ErrKeyMismatch means the key this service was given did not write the
// database's newest audit row: it is not the key the database's tokens and
// audit trail were made with (or that row was edited).
var ErrKeyMismatch = errors.New("key does not match the database")

// CheckKey reports ErrKeyMismatch when the database already holds an audit
// trail that the service's key did not write. A server started with the
// wrong key (a mistyped --key-file, or a new key created beside an existing
// database) would hand out tokens no other node accepts and make every old
// audit row read as edited; this lets it refuse to start instead. An empty
// database matches any key.
func (s *Service) CheckKey(ctx context.Context) error {
	var last []AuditEntry
	err := s.store.View(ctx, func(tx Tx) (err error) {
		last, err = tx.Audit(AuditFilter{Limit: 1})
		return err
	})
	if err != nil || len(last) == 0 {
		return err
	}
	e := last[0]
	want, legacy := audit.Digest(s.auditKey, e.PrevDigest, auditRecord(e)), audit.LegacyDigest(s.auditKey, e.PrevDigest, auditRecord(e))
	if !hmac.Equal([]byte(want), []byte(e.Digest)) && (e.Chain != "" || !hmac.Equal([]byte(legacy), []byte(e.Digest))) {
		return ErrKeyMismatch
	}
	return nil
}

// AdoptKey records in the audit trail that the operator chose to serve the
// database with a new key (agent-bridge serve --init-key). The row is
// written with the new key, so later starts match it; rows before it were
// written with the old key and no longer verify, which the row says.
func (s *Service) AdoptKey(ctx context.Context) error {
	return s.call(ctx, "cli:init-key", "", "", func(Tx, time.Time) (string, error) {
		return "serving with a new key: audit rows before this one were written with the previous key and cannot be verified with this one", nil
	})
}

// Subkey derives an independent secret for one purpose of a front (HTTP
// session ids, say) from the bridge's key, so fronts never hold the key.
func (s *Service) Subkey(purpose string) []byte { return s.key.Sub("front: " + purpose) }
