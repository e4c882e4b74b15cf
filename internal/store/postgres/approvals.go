package postgres

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

const approvalColumns = `id, kind, conversation_id, session, mode, workspace, timeout_ms, sandbox,
	command, command_hash, enablement_id, origin, state, reason, decided_by,
	created_at, decided_at, used_at, expires_at, mac`

// fromNullTS is fromTS, or the zero time for NULL.
func fromNullTS(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return fromTS(*t)
}

func (t *tx) AddApproval(a bridge.Approval) error {
	t.Signal(bridge.ApprovalsTopic, bridge.ConversationTopic(a.ConversationID))
	_, err := t.exec("add approval", `INSERT INTO approvals (`+approvalColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		a.ID, a.Kind, a.ConversationID, string(a.Session), a.Mode, a.Workspace, a.Timeout.Milliseconds(), a.Sandbox,
		a.Command, a.CommandHash, a.EnablementID, a.Origin, a.State, a.Reason, a.DecidedBy,
		ts(a.CreatedAt), nullTS(a.DecidedAt), nullTS(a.UsedAt), ts(a.ExpiresAt), a.MAC)
	return err
}

func scanApproval(row pgx.Row) (bridge.Approval, error) {
	var a bridge.Approval
	var sess string
	var timeout int64
	var decided, used *time.Time
	err := row.Scan(&a.ID, &a.Kind, &a.ConversationID, &sess, &a.Mode, &a.Workspace, &timeout, &a.Sandbox,
		&a.Command, &a.CommandHash, &a.EnablementID, &a.Origin, &a.State, &a.Reason, &a.DecidedBy,
		&a.CreatedAt, &decided, &used, &a.ExpiresAt, &a.MAC)
	a.Session = bridge.Session(sess)
	a.Timeout = time.Duration(timeout) * time.Millisecond
	a.CreatedAt, a.ExpiresAt = fromTS(a.CreatedAt), fromTS(a.ExpiresAt)
	a.DecidedAt, a.UsedAt = fromNullTS(decided), fromNullTS(used)
	return a, err
}

func (t *tx) Approval(id string) (bridge.Approval, error) {
	a, err := scanApproval(t.tx.QueryRow(t.ctx, `SELECT `+approvalColumns+` FROM approvals WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, bridge.ApprovalNotFound(id)
	}
	if err != nil {
		return a, t.fail("read approval", err)
	}
	return a, nil
}

func (t *tx) Approvals(f bridge.ApprovalFilter) ([]bridge.Approval, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.ConversationID != "" {
		where = append(where, "conversation_id = "+arg(f.ConversationID))
	}
	if f.Session != "" {
		where = append(where, "session = "+arg(string(f.Session)))
	}
	if f.Kind != "" {
		where = append(where, "kind = "+arg(f.Kind))
	}
	if len(f.States) > 0 {
		where = append(where, "state = ANY("+arg(f.States)+")")
	}
	q := `SELECT ` + approvalColumns + ` FROM approvals`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := t.tx.Query(t.ctx, q+` ORDER BY created_at, id COLLATE "C"`, args...) // bytewise, as SQLite compares text
	if err != nil {
		return nil, t.fail("list approvals", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bridge.Approval, error) { return scanApproval(r) })
	if err != nil {
		return nil, t.fail("list approvals", err)
	}
	return out, nil
}

func (t *tx) SaveApproval(a bridge.Approval) error {
	t.Signal(bridge.ApprovalsTopic, bridge.ConversationTopic(a.ConversationID))
	tag, err := t.exec("save approval", `UPDATE approvals SET state = $1, reason = $2, decided_by = $3,
		decided_at = $4, used_at = $5, expires_at = $6, mac = $7 WHERE id = $8`,
		a.State, a.Reason, a.DecidedBy, nullTS(a.DecidedAt), nullTS(a.UsedAt), ts(a.ExpiresAt), a.MAC, a.ID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return bridge.ApprovalNotFound(a.ID)
	}
	return nil
}
