package postgres

import (
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

func (t *tx) EndSession(digest string, expires time.Time) error {
	_, err := t.exec("end session", `INSERT INTO ended_sessions (digest, expires_at) VALUES ($1, $2)
		ON CONFLICT (digest) DO UPDATE SET expires_at = greatest(ended_sessions.expires_at, excluded.expires_at)`, digest, ts(expires))
	return err
}

func (t *tx) SessionEnded(digest string, now time.Time) (bool, error) {
	var one int
	err := t.tx.QueryRow(t.ctx, `SELECT 1 FROM ended_sessions WHERE digest = $1 AND expires_at > $2`, digest, ts(now)).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, t.fail("read ended session", err)
	}
	return true, nil
}
