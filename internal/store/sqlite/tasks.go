package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

const taskColumns = `t.conversation_id, t.id, t.title, t.description, t.files, t.created_by, t.assignee, t.state, t.note,
	t.created_at, t.updated_at, t.reassigned_for, t.mac`

func scanTask(row scanner, extra ...any) (bridge.Task, error) {
	var t bridge.Task
	var files, by, assignee string
	var created, updated int64
	var reassigned sql.NullInt64
	dest := append([]any{&t.ConversationID, &t.ID, &t.Title, &t.Description, &files, &by, &assignee, &t.State, &t.Note,
		&created, &updated, &reassigned, &t.MAC}, extra...)
	if err := row.Scan(dest...); err != nil {
		return t, err
	}
	t.CreatedBy, t.Assignee = bridge.Member(by), bridge.Member(assignee)
	t.CreatedAt, t.UpdatedAt, t.ReassignedFor = fromMS(created), fromMS(updated), fromNullMS(reassigned)
	if err := json.Unmarshal([]byte(files), &t.Files); err != nil {
		return t, fmt.Errorf("task %d: decode files: %w", t.ID, err)
	}
	return t, nil
}

func (t *tx) NextTaskID(conversationID string) (int64, error) {
	var id int64
	if err := t.queryRow(`SELECT coalesce(max(id), 0) + 1 FROM tasks WHERE conversation_id = ?`, conversationID).Scan(&id); err != nil {
		return 0, fmt.Errorf("next task id: %w", err)
	}
	return id, nil
}

func (t *tx) AddTask(k bridge.Task) error {
	files := k.Files
	if files == nil {
		files = []string{}
	}
	fj, err := json.Marshal(files)
	if err != nil {
		return fmt.Errorf("add task: encode files: %w", err)
	}
	t.Signal(bridge.ConversationTopic(k.ConversationID))
	_, err = t.exec("add task", `INSERT INTO tasks (conversation_id, id, title, description, files, created_by, assignee, state, note,
		created_at, updated_at, reassigned_for, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ConversationID, k.ID, k.Title, k.Description, string(fj), string(k.CreatedBy), string(k.Assignee), k.State, k.Note,
		ms(k.CreatedAt), ms(k.UpdatedAt), nullMS(k.ReassignedFor), k.MAC)
	return err
}

func (t *tx) Task(conversationID string, id int64) (bridge.Task, error) {
	k, err := scanTask(t.queryRow(`SELECT `+taskColumns+` FROM tasks t WHERE t.conversation_id = ? AND t.id = ?`, conversationID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, bridge.TaskNotFound(conversationID, id)
	}
	if err != nil {
		return k, fmt.Errorf("read task: %w", err)
	}
	return k, nil
}

func (t *tx) Tasks(f bridge.TaskFilter) ([]bridge.Task, error) {
	var where []string
	var args []any
	if f.ConversationID != "" {
		where, args = append(where, "t.conversation_id = ?"), append(args, f.ConversationID)
	}
	if f.Assignee != "" {
		where, args = append(where, "t.assignee = ?"), append(args, string(f.Assignee))
	}
	if len(f.States) > 0 {
		where = append(where, "t.state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
		for _, s := range f.States {
			args = append(args, s)
		}
	}
	where, args = append(where, "t.id > ?"), append(args, f.AfterID)
	q := `SELECT ` + taskColumns + ` FROM tasks t WHERE ` + strings.Join(where, " AND ") + ` ORDER BY t.conversation_id, t.id`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return collect(t, "list tasks", func(r scanner) (bridge.Task, error) { return scanTask(r) }, q, args...)
}

func (t *tx) SaveTask(k bridge.Task, wasState string, wasAssignee bridge.Member) (bool, error) {
	r, err := t.exec("save task", `UPDATE tasks SET assignee = ?, state = ?, note = ?, updated_at = ?, reassigned_for = ?, mac = ?
		WHERE conversation_id = ? AND id = ? AND state = ? AND assignee = ?`,
		string(k.Assignee), k.State, k.Note, ms(k.UpdatedAt), nullMS(k.ReassignedFor), k.MAC,
		k.ConversationID, k.ID, wasState, string(wasAssignee))
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("save task: %w", err)
	}
	if n == 1 {
		t.Signal(bridge.ConversationTopic(k.ConversationID))
	}
	return n == 1, nil
}

func (t *tx) StaleTasks(conversationID string, now time.Time, def time.Duration) ([]bridge.StaleTask, error) {
	// Members drive the search (CROSS JOIN fixes the order): while every
	// assignee is alive the members row check is all it costs, however
	// many tasks the conversation holds. A member that never called has
	// been silent since it joined.
	return collect(t, "stale tasks", func(r scanner) (bridge.StaleTask, error) {
		var hb int64
		k, err := scanTask(r, &hb)
		return bridge.StaleTask{Task: k, Heartbeat: fromMS(hb)}, err
	}, `SELECT `+taskColumns+`, coalesce(m.heartbeat, m.joined_at) FROM members m
		CROSS JOIN tasks t INDEXED BY tasks_assignee
		WHERE m.conversation_id = ?
		  AND coalesce(m.heartbeat, m.joined_at) < ? - coalesce((SELECT reassign_after_ms FROM task_settings WHERE conversation_id = ?), ?)
		  AND t.conversation_id = m.conversation_id AND t.assignee = m.member_id
		  AND t.state IN ('working', 'input_required')
		  AND (t.reassigned_for IS NULL OR t.reassigned_for <> coalesce(m.heartbeat, m.joined_at))
		ORDER BY t.id`, conversationID, ms(now), conversationID, def.Milliseconds())
}

func (t *tx) ReassignAfter(conversationID string) (time.Duration, error) {
	var v int64
	err := t.queryRow(`SELECT reassign_after_ms FROM task_settings WHERE conversation_id = ?`, conversationID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read reassignment threshold: %w", err)
	}
	return time.Duration(v) * time.Millisecond, nil
}

func (t *tx) SetReassignAfter(conversationID string, d time.Duration) error {
	_, err := t.exec("set reassignment threshold", `INSERT INTO task_settings (conversation_id, reassign_after_ms) VALUES (?, ?)
		ON CONFLICT (conversation_id) DO UPDATE SET reassign_after_ms = excluded.reassign_after_ms`, conversationID, d.Milliseconds())
	return err
}

const leaseColumns = `conversation_id, id, member_id, pattern, exclusive, task_id, created_at, expires_at, mac`

func scanLease(row scanner) (bridge.Lease, error) {
	var l bridge.Lease
	var member string
	var task sql.NullInt64
	var created, expires int64
	err := row.Scan(&l.ConversationID, &l.ID, &member, &l.Pattern, &l.Exclusive, &task, &created, &expires, &l.MAC)
	l.Member, l.TaskID, l.CreatedAt, l.ExpiresAt = bridge.Member(member), task.Int64, fromMS(created), fromMS(expires)
	return l, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func (t *tx) NextLeaseID(conversationID string) (int64, error) {
	var id int64
	if err := t.queryRow(`SELECT coalesce(max(id), 0) + 1 FROM leases WHERE conversation_id = ?`, conversationID).Scan(&id); err != nil {
		return 0, fmt.Errorf("next lease id: %w", err)
	}
	return id, nil
}

func (t *tx) AddLease(l bridge.Lease) error {
	_, err := t.exec("add lease", `INSERT INTO leases (`+leaseColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.ConversationID, l.ID, string(l.Member), l.Pattern, l.Exclusive, nullID(l.TaskID), ms(l.CreatedAt), ms(l.ExpiresAt), l.MAC)
	return err
}

func (t *tx) Lease(conversationID string, id int64) (bridge.Lease, error) {
	l, err := scanLease(t.queryRow(`SELECT `+leaseColumns+` FROM leases WHERE conversation_id = ? AND id = ?`, conversationID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return l, bridge.LeaseNotFound(conversationID, id)
	}
	if err != nil {
		return l, fmt.Errorf("read lease: %w", err)
	}
	return l, nil
}

func (t *tx) Leases(conversationID string, now time.Time) ([]bridge.Lease, error) {
	var rows *sql.Rows
	var err error
	if conversationID == "" {
		rows, err = t.query(`SELECT `+leaseColumns+` FROM leases WHERE expires_at > ? ORDER BY conversation_id, id`, ms(now))
	} else {
		rows, err = t.query(`SELECT `+leaseColumns+` FROM leases WHERE conversation_id = ? AND expires_at > ? ORDER BY id`, conversationID, ms(now))
	}
	if err != nil {
		return nil, fmt.Errorf("list leases: %w", err)
	}
	defer rows.Close()
	var out []bridge.Lease
	for rows.Next() {
		l, err := scanLease(rows)
		if err != nil {
			return nil, fmt.Errorf("list leases: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list leases: %w", err)
	}
	return out, nil
}

func (t *tx) SaveLease(l bridge.Lease) error {
	_, err := t.exec("save lease", `UPDATE leases SET expires_at = ?, mac = ? WHERE conversation_id = ? AND id = ?`,
		ms(l.ExpiresAt), l.MAC, l.ConversationID, l.ID)
	return err
}

func (t *tx) DeleteLease(conversationID string, id int64) error {
	_, err := t.exec("release lease", `DELETE FROM leases WHERE conversation_id = ? AND id = ?`, conversationID, id)
	return err
}

func (t *tx) DeleteTaskLeases(conversationID string, taskID int64) (int, error) {
	r, err := t.exec("release task leases", `DELETE FROM leases WHERE conversation_id = ? AND task_id = ?`, conversationID, taskID)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}

func (t *tx) DeleteExpiredLeases(now time.Time) (int, error) {
	r, err := t.exec("cleanup: delete expired leases", `DELETE FROM leases WHERE expires_at <= ?`, ms(now))
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}
