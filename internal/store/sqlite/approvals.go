package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

const approvalColumns = `id, kind, conversation_id, session, mode, workspace, timeout_ms, sandbox,
	command, command_hash, enablement_id, origin, state, reason, decided_by,
	created_at, decided_at, used_at, expires_at, mac`

func nullMS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ms(t)
}

func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

func (t *tx) AddApproval(a bridge.Approval) error {
	t.Signal(bridge.ApprovalsTopic, bridge.ConversationTopic(a.ConversationID))
	_, err := t.exec("add approval", `INSERT INTO approvals (`+approvalColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Kind, a.ConversationID, string(a.Session), a.Mode, a.Workspace, a.Timeout.Milliseconds(), a.Sandbox,
		a.Command, a.CommandHash, a.EnablementID, a.Origin, a.State, a.Reason, a.DecidedBy,
		ms(a.CreatedAt), nullMS(a.DecidedAt), nullMS(a.UsedAt), ms(a.ExpiresAt), a.MAC)
	return err
}

func scanApproval(row scanner) (bridge.Approval, error) {
	var a bridge.Approval
	var sess string
	var timeout, created, expires int64
	var decided, used sql.NullInt64
	err := row.Scan(&a.ID, &a.Kind, &a.ConversationID, &sess, &a.Mode, &a.Workspace, &timeout, &a.Sandbox,
		&a.Command, &a.CommandHash, &a.EnablementID, &a.Origin, &a.State, &a.Reason, &a.DecidedBy,
		&created, &decided, &used, &expires, &a.MAC)
	a.Session = bridge.Session(sess)
	a.Timeout = time.Duration(timeout) * time.Millisecond
	a.CreatedAt, a.ExpiresAt = fromMS(created), fromMS(expires)
	a.DecidedAt, a.UsedAt = fromNullMS(decided), fromNullMS(used)
	return a, err
}

func (t *tx) Approval(id string) (bridge.Approval, error) {
	a, err := scanApproval(t.queryRow(`SELECT `+approvalColumns+` FROM approvals WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, bridge.ApprovalNotFound(id)
	}
	if err != nil {
		return a, fmt.Errorf("read approval: %w", err)
	}
	return a, nil
}

func (t *tx) Approvals(f bridge.ApprovalFilter) ([]bridge.Approval, error) {
	var where []string
	var args []any
	if f.ConversationID != "" {
		where, args = append(where, "conversation_id = ?"), append(args, f.ConversationID)
	}
	if f.Session != "" {
		where, args = append(where, "session = ?"), append(args, string(f.Session))
	}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if len(f.States) > 0 {
		where = append(where, "state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
		for _, s := range f.States {
			args = append(args, s)
		}
	}
	q := `SELECT ` + approvalColumns + ` FROM approvals`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	return collect(t, "list approvals", scanApproval, q+` ORDER BY created_at, id`, args...)
}

func (t *tx) SaveApproval(a bridge.Approval) error {
	t.Signal(bridge.ApprovalsTopic, bridge.ConversationTopic(a.ConversationID))
	r, err := t.exec("save approval", `UPDATE approvals SET state = ?, reason = ?, decided_by = ?,
		decided_at = ?, used_at = ?, expires_at = ?, mac = ? WHERE id = ?`,
		a.State, a.Reason, a.DecidedBy, nullMS(a.DecidedAt), nullMS(a.UsedAt), ms(a.ExpiresAt), a.MAC, a.ID)
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err != nil {
		return fmt.Errorf("save approval: %w", err)
	} else if n == 0 {
		return bridge.ApprovalNotFound(a.ID)
	}
	return nil
}
