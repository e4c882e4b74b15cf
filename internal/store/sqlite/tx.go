package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/chainlock"
)

// tx implements bridge.Tx over one SQL transaction. Statements come from
// its pool's cache, prepared once per connection rather than per call.
type tx struct {
	ctx     context.Context
	tx      *sql.Tx
	stmts   *stmtCache
	signals *[]string // topics to raise after the commit; nil in a read
	locks   chainlock.Order
	heads   auditHeads // chains' last rows as this transaction appended or read them
	nextID  int64      // the next message id, read with a conversation (0: ask)
}

// Lock checks the order of the chains' locks; SQLite has one writer at a
// time (BEGIN IMMEDIATE under the write queue), which holds them all.
func (t *tx) Lock(chains ...string) error {
	_, err := t.locks.Take(chains)
	return err
}

func (t *tx) Signal(topics ...string) {
	if t.signals != nil {
		*t.signals = append(*t.signals, topics...)
	}
}

// prepared returns the cached statement for query bound to this
// transaction, or nil on a miss (the query then runs unprepared and is
// prepared after the transaction ends: preparing on the pool now could wait
// for the very connection this transaction holds).
func (t *tx) prepared(query string) *sql.Stmt {
	s := t.stmts.lookup(query)
	if s == nil {
		return nil
	}
	return t.tx.StmtContext(t.ctx, s)
}

func (t *tx) query(query string, args ...any) (*sql.Rows, error) {
	if s := t.prepared(query); s != nil {
		return s.QueryContext(t.ctx, args...)
	}
	return t.tx.QueryContext(t.ctx, query, args...)
}

type scanner interface{ Scan(...any) error }

// collect runs query and scans every row with scan, wrapping any error
// with what: the loop every list read shares (pgx.CollectRows is its twin
// in the PostgreSQL store).
func collect[T any](t *tx, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

func (t *tx) queryRow(query string, args ...any) *sql.Row {
	if s := t.prepared(query); s != nil {
		return s.QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, query, args...)
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func (t *tx) exec(what, query string, args ...any) (sql.Result, error) {
	var r sql.Result
	var err error
	if s := t.prepared(query); s != nil {
		r, err = s.ExecContext(t.ctx, args...)
	} else {
		r, err = t.tx.ExecContext(t.ctx, query, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return r, nil
}

func (t *tx) CreateConversation(c bridge.Conversation) error {
	_, err := t.exec("create conversation",
		`INSERT INTO conversations (id, role_a, role_b, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		c.ID, c.RoleA, c.RoleB, ms(c.CreatedAt), ms(c.ExpiresAt))
	return err
}

const conversationColumns = `id, role_a, role_b, created_at, expires_at`

func scanConversation(row scanner) (bridge.Conversation, error) {
	var c bridge.Conversation
	var created, expires int64
	err := row.Scan(&c.ID, &c.RoleA, &c.RoleB, &created, &expires)
	c.CreatedAt, c.ExpiresAt = fromMS(created), fromMS(expires)
	return c, err
}

func (t *tx) Conversation(id string) (bridge.Conversation, error) {
	c, err := scanConversation(t.queryRow(`SELECT `+conversationColumns+` FROM conversations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, bridge.ConversationNotFound(id)
	}
	if err != nil {
		return c, fmt.Errorf("read conversation: %w", err)
	}
	return c, nil
}

func (t *tx) Conversations() ([]bridge.Conversation, error) {
	return collect(t, "list conversations", scanConversation, `SELECT `+conversationColumns+` FROM conversations ORDER BY created_at, id`)
}

func (t *tx) AddMessage(m *bridge.Message) error {
	readAt, err := t.insertMessage(m)
	if err != nil {
		return err
	}
	id, to := m.ID, m.To
	// Fan out: one inbox row per recipient, and their counters, in three
	// statements however many members there are.
	if to == bridge.Broadcast {
		if _, err := t.exec("deliver message", `INSERT INTO inbox (conversation_id, member_id, message_id, read_at)
			SELECT conversation_id, member_id, ?, ? FROM members WHERE conversation_id = ? AND left_at IS NULL AND member_id <> ?`,
			id, readAt, m.ConversationID, string(m.From)); err != nil {
			return err
		}
		if readAt == nil {
			_, err = t.exec("count unread", `UPDATE members SET unread = unread + 1 WHERE conversation_id = ? AND left_at IS NULL AND member_id <> ?`,
				m.ConversationID, string(m.From))
		}
		return err
	}
	if _, err := t.exec("deliver message", `INSERT INTO inbox (conversation_id, member_id, message_id, read_at) VALUES (?, ?, ?, ?)`,
		m.ConversationID, string(to), id, readAt); err != nil {
		return err
	}
	if readAt == nil {
		_, err = t.exec("count unread", `UPDATE members SET unread = unread + 1 WHERE conversation_id = ? AND member_id = ?`,
			m.ConversationID, string(to))
	}
	return err
}

// insertMessage stores m's row (not its delivery) and sets its ID and To;
// it returns m.ReadAt as a column value.
func (t *tx) insertMessage(m *bridge.Message) (readAt any, err error) {
	files := m.Files
	if files == nil {
		files = []string{}
	}
	fj, err := json.Marshal(files)
	if err != nil {
		return nil, fmt.Errorf("add message: encode files: %w", err)
	}
	to := m.To
	if to == "" {
		to = bridge.Broadcast
	}
	var id int64
	var id0, replyTo any
	if m.ID != 0 {
		id0 = m.ID // imports keep their ids
	}
	if !m.ReadAt.IsZero() {
		readAt = ms(m.ReadAt)
	}
	if m.ReplyTo != 0 {
		replyTo = m.ReplyTo
	}
	err = t.queryRow(`INSERT INTO messages (id, conversation_id, sender, recipient, reply_to, action_type, body, files, created_at, system, mac)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		id0, m.ConversationID, string(m.From), string(to), replyTo, m.ActionType, m.Body, string(fj), ms(m.CreatedAt), m.System, m.MAC).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("add message: %w", err)
	}
	t.nextID = 0 // this id is taken: ask again
	m.ID, m.To = id, to
	return readAt, nil
}

// NextMessageID is max(id)+1: the one writer holds the lock until it has
// inserted the message.
func (t *tx) NextMessageID() (int64, error) {
	if id := t.nextID; id != 0 {
		t.nextID = 0 // read once: the message stored with it moves the next
		return id, nil
	}
	var id int64
	if err := t.queryRow(`SELECT coalesce(max(id), 0) + 1 FROM messages`).Scan(&id); err != nil {
		return 0, fmt.Errorf("next message id: %w", err)
	}
	return id, nil
}

const messageColumns = `m.id, m.conversation_id, m.sender, m.recipient, m.reply_to, m.action_type, m.body, m.files, m.created_at, m.system, m.mac`

// scanMessages reads rows of messageColumns followed by a read time.
func scanMessages(rows *sql.Rows) ([]bridge.Message, error) {
	defer rows.Close()
	var out []bridge.Message
	for rows.Next() {
		var m bridge.Message
		var from, to, files string
		var created int64
		var read, replyTo sql.NullInt64
		if err := rows.Scan(&m.ID, &m.ConversationID, &from, &to, &replyTo, &m.ActionType, &m.Body, &files, &created, &m.System, &m.MAC, &read); err != nil {
			return nil, err
		}
		m.From, m.To, m.ReplyTo = bridge.Member(from), bridge.Member(to), replyTo.Int64
		if err := json.Unmarshal([]byte(files), &m.Files); err != nil {
			return nil, fmt.Errorf("message %d: decode files: %w", m.ID, err)
		}
		m.CreatedAt = fromMS(created)
		if read.Valid {
			m.ReadAt = fromMS(read.Int64)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const inboxQuery = `SELECT ` + messageColumns + `, i.read_at FROM inbox i JOIN messages m ON m.id = i.message_id
	WHERE i.conversation_id = ? AND i.member_id = ?`

func (t *tx) TakeUnread(conversationID string, to bridge.Member, now time.Time, limit int) ([]bridge.Message, error) {
	msgs, err := t.PeekUnread(conversationID, to, limit)
	if err != nil || len(msgs) == 0 {
		return msgs, err
	}
	// Writers are serialised: the rows just read are exactly the unread
	// ones up to the last id.
	last := msgs[len(msgs)-1].ID
	if _, err := t.exec("take unread messages", `UPDATE inbox INDEXED BY inbox_unread SET read_at = ?
		 WHERE conversation_id = ? AND member_id = ? AND read_at IS NULL AND message_id <= ?`,
		ms(now), conversationID, string(to), last); err != nil {
		return nil, err
	}
	if _, err := t.exec("count unread", `UPDATE members SET unread = max(unread - ?, 0) WHERE conversation_id = ? AND member_id = ?`,
		len(msgs), conversationID, string(to)); err != nil {
		return nil, err
	}
	for i := range msgs {
		msgs[i].ReadAt = fromMS(ms(now))
	}
	return msgs, nil
}

func (t *tx) Messages(conversationID string) ([]bridge.Message, error) {
	// A message counts as read once every recipient has read it.
	rows, err := t.query(`SELECT `+messageColumns+`, (SELECT CASE WHEN count(*) > 0 AND count(i.read_at) = count(*) THEN max(i.read_at) END
		FROM inbox i WHERE i.message_id = m.id) FROM messages m WHERE m.conversation_id = ? ORDER BY m.id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	return msgs, nil
}

func (t *tx) UnreadCount(conversationID string, to bridge.Member) (int, error) {
	var n int
	err := t.queryRow(`SELECT unread FROM members WHERE conversation_id = ? AND member_id = ?`,
		conversationID, string(to)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("count unread messages: %w", err)
	}
	return n, nil
}

func (t *tx) SetState(conversationID string, s bridge.Member, status string, at time.Time) error {
	r, err := t.exec("set status",
		`UPDATE members SET status = ?, heartbeat = ? WHERE conversation_id = ? AND member_id = ?`,
		status, ms(at), conversationID, string(s))
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("set status: no member %s in %s (%v)", s, conversationID, err)
	}
	return nil
}

func (t *tx) State(conversationID string, s bridge.Member) (bridge.SessionState, error) {
	st := bridge.SessionState{Session: s, Status: bridge.StatusUnknown}
	var hb sql.NullInt64
	err := t.queryRow(`SELECT status, heartbeat FROM members WHERE conversation_id = ? AND member_id = ?`,
		conversationID, string(s)).Scan(&st.Status, &hb)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read status: %w", err)
	}
	if hb.Valid {
		st.Heartbeat = fromMS(hb.Int64)
	}
	return st, nil
}

func (t *tx) RequestTimes(subject string, since time.Time) ([]time.Time, error) {
	return collect(t, "read rate events", func(r scanner) (time.Time, error) {
		var at int64
		err := r.Scan(&at)
		return fromMS(at), err
	}, `SELECT at FROM rate_events WHERE subject = ? AND at >= ? ORDER BY at`, subject, ms(since))
}

func (t *tx) AddRequest(subject, conversationID string, at, forgetBefore time.Time) error {
	if !forgetBefore.IsZero() {
		if _, err := t.exec("forget rate events", `DELETE FROM rate_events WHERE subject = ? AND at < ?`, subject, ms(forgetBefore)); err != nil {
			return err
		}
	}
	_, err := t.exec("add rate event", `INSERT INTO rate_events (subject, conversation_id, at) VALUES (?, ?, ?)`, subject, conversationID, ms(at))
	return err
}

func (t *tx) LastAudit(chain string) (int64, string, error) {
	if h, ok := t.heads[chain]; ok {
		return h.seq, h.digest, nil
	}
	var seq int64
	var digest string
	err := t.queryRow(`SELECT seq, digest FROM audit WHERE chain = ? ORDER BY seq DESC LIMIT 1`, chain).Scan(&seq, &digest)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("read audit head: %w", err)
	}
	return seq, digest, nil
}

func (t *tx) AppendAudit(e bridge.AuditEntry) error {
	_, err := t.exec("append audit row",
		`INSERT INTO audit (chain, seq, at, tool, conversation_id, session, outcome, error_kind, detail, refs, prev_digest, digest)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Chain, e.Seq, ms(e.At), e.Tool, e.ConversationID, e.Session, e.Outcome, string(e.ErrorKind), e.Detail, e.Refs, e.PrevDigest, e.Digest)
	if err == nil {
		t.heads.set(e.Chain, e.Seq, e.Digest)
	}
	return err
}

const auditColumns = `chain, seq, at, tool, conversation_id, session, outcome, error_kind, detail, refs, prev_digest, digest`

func (t *tx) queryAudit(fn func(bridge.AuditEntry) error, query string, args ...any) error {
	rows, err := t.query(query, args...)
	if err != nil {
		return fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e bridge.AuditEntry
		var at int64
		var kind string
		if err := rows.Scan(&e.Chain, &e.Seq, &at, &e.Tool, &e.ConversationID, &e.Session, &e.Outcome, &kind, &e.Detail, &e.Refs, &e.PrevDigest, &e.Digest); err != nil {
			return fmt.Errorf("read audit: %w", err)
		}
		e.At, e.ErrorKind = fromMS(at), bridge.ErrorKind(kind)
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read audit: %w", err)
	}
	return nil
}

func (t *tx) Audit(f bridge.AuditFilter) ([]bridge.AuditEntry, error) {
	var where []string
	var args []any
	if f.ConversationID != "" {
		where = append(where, "conversation_id = ?")
		args = append(args, f.ConversationID)
	}
	q := `SELECT ` + auditColumns + ` FROM audit`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY rowid DESC` // the order rows were written in
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	var out []bridge.AuditEntry
	err := t.queryAudit(func(e bridge.AuditEntry) error { out = append(out, e); return nil }, q, args...)
	// Newest first from the query (so LIMIT keeps the last rows); callers
	// want oldest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}

func (t *tx) EachAudit(chain *string, fn func(bridge.AuditEntry) error) error {
	if chain != nil {
		return t.queryAudit(fn, `SELECT `+auditColumns+` FROM audit WHERE chain = ? ORDER BY seq`, *chain)
	}
	return t.queryAudit(fn, `SELECT `+auditColumns+` FROM audit ORDER BY chain, seq`)
}

func (t *tx) DeleteAudit(chain string, through int64) (int, error) {
	delete(t.heads, chain)
	r, err := t.exec("prune audit", `DELETE FROM audit WHERE chain = ? AND seq <= ?`, chain, through)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}

func (t *tx) DeleteExpired(now time.Time) (bridge.Cleanup, error) {
	var out bridge.Cleanup
	const expired = `SELECT id FROM conversations WHERE expires_at <= ?`
	counts := []struct {
		n     *int
		query string
	}{
		{&out.Messages, `SELECT count(*) FROM messages WHERE conversation_id IN (` + expired + `)`},
		{&out.Statuses, `SELECT count(*) FROM members WHERE conversation_id IN (` + expired + `)`},
	}
	for _, c := range counts {
		if err := t.queryRow(c.query, ms(now)).Scan(c.n); err != nil {
			return out, fmt.Errorf("cleanup: count: %w", err)
		}
	}
	if _, err := t.exec("cleanup: forget rate events",
		`DELETE FROM rate_events WHERE conversation_id IN (`+expired+`)`, ms(now)); err != nil {
		return out, err
	}
	// Events of subjects that are no conversation's (per-origin create
	// limits) are forgotten once older than any limit window.
	if _, err := t.exec("cleanup: forget old rate events", `DELETE FROM rate_events WHERE at < ?`, ms(now.Add(-bridge.RateMemory))); err != nil {
		return out, err
	}
	// Messages, inboxes, members and invites go with their conversation
	// (ON DELETE CASCADE).
	r, err := t.exec("cleanup: delete conversations", `DELETE FROM conversations WHERE expires_at <= ?`, ms(now))
	if err != nil {
		return out, err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return out, fmt.Errorf("cleanup: %w", err)
	}
	out.Conversations = int(n)
	if r, err = t.exec("cleanup: forget ended sessions", `DELETE FROM ended_sessions WHERE expires_at <= ?`, ms(now)); err != nil {
		return out, err
	}
	if n, err = r.RowsAffected(); err != nil {
		return out, fmt.Errorf("cleanup: %w", err)
	}
	out.Sessions = int(n)
	return out, nil
}

func (t *tx) PeekUnread(conversationID string, to bridge.Member, limit int) ([]bridge.Message, error) {
	// Without statistics the planner would walk the conversation's whole
	// inbox by primary key; the partial index holds only unread rows.
	rows, err := t.query(`SELECT `+messageColumns+`, i.read_at FROM inbox i INDEXED BY inbox_unread JOIN messages m ON m.id = i.message_id
		WHERE i.conversation_id = ? AND i.member_id = ? AND i.read_at IS NULL ORDER BY i.message_id LIMIT ?`,
		conversationID, string(to), limit)
	if err != nil {
		return nil, fmt.Errorf("read unread messages: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("read unread messages: %w", err)
	}
	return msgs, nil
}

func (t *tx) History(conversationID string, to bridge.Member, afterID int64, since time.Time, limit int) ([]bridge.Message, error) {
	rows, err := t.query(inboxQuery+` AND i.message_id > ? AND m.created_at >= ? ORDER BY i.message_id LIMIT ?`,
		conversationID, string(to), afterID, ms(since), limit)
	if err != nil {
		return nil, fmt.Errorf("read message history: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("read message history: %w", err)
	}
	return msgs, nil
}

func (t *tx) Receipt(conversationID string, from, to bridge.Member) (bridge.Receipt, error) {
	var r bridge.Receipt
	err := t.queryRow(`SELECT count(*) FROM inbox i INDEXED BY inbox_unread JOIN messages m ON m.id = i.message_id
		WHERE i.conversation_id = ? AND m.sender = ? AND (? = '' OR i.member_id = ?) AND i.read_at IS NULL`,
		conversationID, string(from), string(to), string(to)).Scan(&r.Unread)
	if err != nil {
		return r, fmt.Errorf("read receipt: %w", err)
	}
	var readAt int64
	err = t.queryRow(`SELECT i.message_id, i.read_at FROM inbox i JOIN messages m ON m.id = i.message_id
		WHERE i.conversation_id = ? AND m.sender = ? AND (? = '' OR i.member_id = ?) AND i.read_at IS NOT NULL
		ORDER BY i.message_id DESC, i.read_at DESC LIMIT 1`,
		conversationID, string(from), string(to), string(to)).Scan(&r.LastReadID, &readAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return r, nil
	case err != nil:
		return r, fmt.Errorf("read receipt: %w", err)
	}
	r.LastReadAt = fromMS(readAt)
	return r, nil
}

func (t *tx) Touch(conversationID string, s bridge.Member, at time.Time) error {
	_, err := t.exec("record heartbeat",
		`UPDATE members SET heartbeat = max(coalesce(heartbeat, 0), ?) WHERE conversation_id = ? AND member_id = ?`,
		ms(at), conversationID, string(s))
	return err
}

func (t *tx) SeeEndpoint(e bridge.Endpoint) error {
	_, err := t.exec("record endpoint",
		`INSERT INTO endpoints (workdir, conversation_id, session, seen_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (workdir, conversation_id, session) DO UPDATE SET seen_at = max(seen_at, excluded.seen_at)`,
		e.Workdir, e.ConversationID, string(e.Session), ms(e.SeenAt))
	return err
}

func (t *tx) Endpoints(workdir string, since time.Time) ([]bridge.Endpoint, error) {
	return collect(t, "read endpoints", func(r scanner) (bridge.Endpoint, error) {
		var e bridge.Endpoint
		var sess string
		var seen int64
		err := r.Scan(&e.Workdir, &e.ConversationID, &sess, &seen)
		e.Session, e.SeenAt = bridge.Session(sess), fromMS(seen)
		return e, err
	}, `SELECT workdir, conversation_id, session, seen_at FROM endpoints
		WHERE workdir = ? AND seen_at >= ? ORDER BY seen_at DESC`, workdir, ms(since))
}

func (t *tx) OpenSilence(conversationID string, s bridge.Session, heartbeat, at time.Time) (bool, error) {
	r, err := t.exec("open silence",
		`INSERT INTO silences (conversation_id, session, heartbeat, reported_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT DO NOTHING`, conversationID, string(s), ms(heartbeat), ms(at))
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

func (t *tx) CloseSilences(conversationID string, s bridge.Session, heartbeat, at time.Time) (int, error) {
	r, err := t.exec("close silence",
		`UPDATE silences SET ended_at = ?
		 WHERE conversation_id = ? AND session = ? AND ended_at IS NULL AND heartbeat < ?`,
		ms(at), conversationID, string(s), ms(heartbeat))
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}

func (t *tx) SetExpiry(conversationID string, expires time.Time) error {
	_, err := t.exec("set expiry", `UPDATE conversations SET expires_at = ? WHERE id = ?`, ms(expires), conversationID)
	return err
}
