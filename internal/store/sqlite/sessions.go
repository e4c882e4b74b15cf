package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

func (t *tx) EndSession(digest string, expires time.Time) error {
	_, err := t.exec("end session", `INSERT INTO ended_sessions (digest, expires_at) VALUES (?, ?)
		ON CONFLICT (digest) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`, digest, ms(expires))
	return err
}

func (t *tx) SessionEnded(digest string, now time.Time) (bool, error) {
	var one int
	err := t.queryRow(`SELECT 1 FROM ended_sessions WHERE digest = ? AND expires_at > ?`, digest, ms(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read ended session: %w", err)
	}
	return true, nil
}
