package bridge

import (
	"context"
	"time"
)

// HTTP nodes sharing a store end MCP sessions together: DELETE on one node
// records a keyed digest of the session id here (never the id), and every
// node refuses the session from then on.

// SessionDigestSize is the length of a session digest: lower-case hex.
const SessionDigestSize = 64

// EndSession records that the HTTP session named by digest ended; the
// record is kept until expires, when the id would have expired anyway, and
// cleanup removes it. The call is audited.
func (s *Service) EndSession(ctx context.Context, digest string, expires time.Time) error {
	if !expires.After(s.cfg.Now()) {
		return nil // expired already: every node refuses it without a record
	}
	return s.call(ctx, "http:end-session", "", "", func(tx Tx, now time.Time) (string, error) {
		if len(digest) != SessionDigestSize || !isLowerHex(digest) {
			return "", Errorf(EInvalid, "a session digest must be %d lower-case hex characters", SessionDigestSize)
		}
		return "ended an HTTP session", tx.EndSession(digest, expires.UTC().Truncate(time.Millisecond))
	})
}

// SessionEnded reports whether the HTTP session named by digest was ended
// on any node sharing the store. It is one indexed read.
func (s *Service) SessionEnded(ctx context.Context, digest string) (bool, error) {
	var ended bool
	now := s.cfg.Now()
	err := s.store.View(ctx, func(tx Tx) (err error) {
		ended, err = tx.SessionEnded(digest, now)
		return err
	})
	return ended, err
}
