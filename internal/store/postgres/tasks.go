package postgres

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

const taskColumns = `t.conversation_id, t.id, t.title, t.description, t.files, t.created_by, t.assignee, t.state, t.note,
	t.created_at, t.updated_at, t.reassigned_for, t.mac`

func scanTask(row pgx.Row, extra ...any) (bridge.Task, error) {
	var t bridge.Task
	var by, assignee string
	var reassigned *time.Time
	dest := append([]any{&t.ConversationID, &t.ID, &t.Title, &t.Description, &t.Files, &by, &assignee, &t.State, &t.Note,
		&t.CreatedAt, &t.UpdatedAt, &reassigned, &t.MAC}, extra...)
	if err := row.Scan(dest...); err != nil {
		return t, err
	}
	t.CreatedBy, t.Assignee = bridge.Member(by), bridge.Member(assignee)
	t.CreatedAt, t.UpdatedAt = fromTS(t.CreatedAt), fromTS(t.UpdatedAt)
	if reassigned != nil {
		t.ReassignedFor = fromTS(*reassigned)
	}
	if t.Files == nil {
		t.Files = []string{}
	}
	return t, nil
}

func (t *tx) NextTaskID(conversationID string) (int64, error) {
	var id int64
	if err := t.tx.QueryRow(t.ctx, `SELECT coalesce(max(id), 0) + 1 FROM tasks WHERE conversation_id = $1`, conversationID).Scan(&id); err != nil {
		return 0, t.fail("next task id", err)
	}
	return id, nil
}

func (t *tx) AddTask(k bridge.Task) error {
	files := k.Files
	if files == nil {
		files = []string{}
	}
	t.Signal(bridge.ConversationTopic(k.ConversationID))
	_, err := t.exec("add task", `INSERT INTO tasks (conversation_id, id, title, description, files, created_by, assignee, state, note,
		created_at, updated_at, reassigned_for, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		k.ConversationID, k.ID, k.Title, k.Description, files, string(k.CreatedBy), string(k.Assignee), k.State, k.Note,
		ts(k.CreatedAt), ts(k.UpdatedAt), nullTS(k.ReassignedFor), k.MAC)
	return err
}

func (t *tx) Task(conversationID string, id int64) (bridge.Task, error) {
	k, err := scanTask(t.tx.QueryRow(t.ctx, `SELECT `+taskColumns+` FROM tasks t WHERE t.conversation_id = $1 AND t.id = $2`, conversationID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, bridge.TaskNotFound(conversationID, id)
	}
	if err != nil {
		return k, t.fail("read task", err)
	}
	return k, nil
}

func (t *tx) collectTasks(what string, rows pgx.Rows, err error) ([]bridge.Task, error) {
	if err != nil {
		return nil, t.fail(what, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bridge.Task, error) { return scanTask(r) })
	if err != nil {
		return nil, t.fail(what, err)
	}
	return out, nil
}

func (t *tx) Tasks(f bridge.TaskFilter) ([]bridge.Task, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.ConversationID != "" {
		where = append(where, "t.conversation_id = "+arg(f.ConversationID))
	}
	if f.Assignee != "" {
		where = append(where, "t.assignee = "+arg(string(f.Assignee)))
	}
	if len(f.States) > 0 {
		where = append(where, "t.state = ANY("+arg(f.States)+")")
	}
	where = append(where, "t.id > "+arg(f.AfterID))
	q := `SELECT ` + taskColumns + ` FROM tasks t WHERE ` + strings.Join(where, " AND ") + ` ORDER BY t.conversation_id COLLATE "C", t.id`
	if f.Limit > 0 {
		q += ` LIMIT ` + arg(f.Limit)
	}
	rows, err := t.tx.Query(t.ctx, q, args...)
	return t.collectTasks("list tasks", rows, err)
}

func (t *tx) SaveTask(k bridge.Task, wasState string, wasAssignee bridge.Member) (bool, error) {
	tag, err := t.exec("save task", `UPDATE tasks SET assignee = $1, state = $2, note = $3, updated_at = $4, reassigned_for = $5, mac = $6
		WHERE conversation_id = $7 AND id = $8 AND state = $9 AND assignee = $10`,
		string(k.Assignee), k.State, k.Note, ts(k.UpdatedAt), nullTS(k.ReassignedFor), k.MAC,
		k.ConversationID, k.ID, wasState, string(wasAssignee))
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 1 {
		t.Signal(bridge.ConversationTopic(k.ConversationID))
	}
	return tag.RowsAffected() == 1, nil
}

func (t *tx) StaleTasks(conversationID string, now time.Time, def time.Duration) ([]bridge.StaleTask, error) {
	// Members first: while every assignee is alive no task is read.
	// A member that never called has been silent since it joined.
	rows, err := t.tx.Query(t.ctx, `SELECT `+taskColumns+`, coalesce(m.heartbeat, m.joined_at) FROM members m
		JOIN tasks t ON t.conversation_id = m.conversation_id AND t.assignee = m.member_id
		WHERE m.conversation_id = $1
		  AND coalesce(m.heartbeat, m.joined_at) < $2::timestamptz - coalesce((SELECT reassign_after_ms FROM task_settings WHERE conversation_id = $1), $3::bigint) * interval '1 millisecond'
		  AND t.state IN ('working', 'input_required')
		  AND (t.reassigned_for IS NULL OR t.reassigned_for <> coalesce(m.heartbeat, m.joined_at))
		ORDER BY t.id`, conversationID, ts(now), def.Milliseconds())
	if err != nil {
		return nil, t.fail("stale tasks", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bridge.StaleTask, error) {
		var hb time.Time
		k, err := scanTask(r, &hb)
		return bridge.StaleTask{Task: k, Heartbeat: fromTS(hb)}, err
	})
	if err != nil {
		return nil, t.fail("stale tasks", err)
	}
	return out, nil
}

func (t *tx) ReassignAfter(conversationID string) (time.Duration, error) {
	var v int64
	err := t.tx.QueryRow(t.ctx, `SELECT reassign_after_ms FROM task_settings WHERE conversation_id = $1`, conversationID).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, t.fail("read reassignment threshold", err)
	}
	return time.Duration(v) * time.Millisecond, nil
}

func (t *tx) SetReassignAfter(conversationID string, d time.Duration) error {
	_, err := t.exec("set reassignment threshold", `INSERT INTO task_settings (conversation_id, reassign_after_ms) VALUES ($1, $2)
		ON CONFLICT (conversation_id) DO UPDATE SET reassign_after_ms = excluded.reassign_after_ms`, conversationID, d.Milliseconds())
	return err
}

const leaseColumns = `conversation_id, id, member_id, pattern, exclusive, task_id, created_at, expires_at, mac`

func scanLease(row pgx.Row) (bridge.Lease, error) {
	var l bridge.Lease
	var member string
	var task *int64
	err := row.Scan(&l.ConversationID, &l.ID, &member, &l.Pattern, &l.Exclusive, &task, &l.CreatedAt, &l.ExpiresAt, &l.MAC)
	l.Member, l.CreatedAt, l.ExpiresAt = bridge.Member(member), fromTS(l.CreatedAt), fromTS(l.ExpiresAt)
	if task != nil {
		l.TaskID = *task
	}
	return l, err
}

func (t *tx) NextLeaseID(conversationID string) (int64, error) {
	var id int64
	if err := t.tx.QueryRow(t.ctx, `SELECT coalesce(max(id), 0) + 1 FROM leases WHERE conversation_id = $1`, conversationID).Scan(&id); err != nil {
		return 0, t.fail("next lease id", err)
	}
	return id, nil
}

func (t *tx) AddLease(l bridge.Lease) error {
	var task *int64
	if l.TaskID != 0 {
		task = &l.TaskID
	}
	_, err := t.exec("add lease", `INSERT INTO leases (`+leaseColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		l.ConversationID, l.ID, string(l.Member), l.Pattern, l.Exclusive, task, ts(l.CreatedAt), ts(l.ExpiresAt), l.MAC)
	return err
}

func (t *tx) Lease(conversationID string, id int64) (bridge.Lease, error) {
	l, err := scanLease(t.tx.QueryRow(t.ctx, `SELECT `+leaseColumns+` FROM leases WHERE conversation_id = $1 AND id = $2`, conversationID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return l, bridge.LeaseNotFound(conversationID, id)
	}
	if err != nil {
		return l, t.fail("read lease", err)
	}
	return l, nil
}

func (t *tx) Leases(conversationID string, now time.Time) ([]bridge.Lease, error) {
	var rows pgx.Rows
	var err error
	if conversationID == "" {
		rows, err = t.tx.Query(t.ctx, `SELECT `+leaseColumns+` FROM leases WHERE expires_at > $1 ORDER BY conversation_id COLLATE "C", id`, ts(now))
	} else {
		rows, err = t.tx.Query(t.ctx, `SELECT `+leaseColumns+` FROM leases WHERE conversation_id = $1 AND expires_at > $2 ORDER BY id`, conversationID, ts(now))
	}
	if err != nil {
		return nil, t.fail("list leases", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bridge.Lease, error) { return scanLease(r) })
	if err != nil {
		return nil, t.fail("list leases", err)
	}
	return out, nil
}

func (t *tx) SaveLease(l bridge.Lease) error {
	_, err := t.exec("save lease", `UPDATE leases SET expires_at = $1, mac = $2 WHERE conversation_id = $3 AND id = $4`,
		ts(l.ExpiresAt), l.MAC, l.ConversationID, l.ID)
	return err
}

func (t *tx) DeleteLease(conversationID string, id int64) error {
	_, err := t.exec("release lease", `DELETE FROM leases WHERE conversation_id = $1 AND id = $2`, conversationID, id)
	return err
}

func (t *tx) DeleteTaskLeases(conversationID string, taskID int64) (int, error) {
	tag, err := t.exec("release task leases", `DELETE FROM leases WHERE conversation_id = $1 AND task_id = $2`, conversationID, taskID)
	return int(tag.RowsAffected()), err
}

func (t *tx) DeleteExpiredLeases(now time.Time) (int, error) {
	tag, err := t.exec("cleanup: delete expired leases", `DELETE FROM leases WHERE expires_at <= $1`, ts(now))
	return int(tag.RowsAffected()), err
}
