package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/chainlock"
)

// tx implements bridge.Tx over one pgx transaction. pgx prepares each query
// once per connection and caches it (its default exec mode), as the SQLite
// store's statement cache does.
type tx struct {
	ctx      context.Context
	tx       *lazyTx
	signals  *[]string // topics to raise at commit; nil in a read
	locks    chainlock.Order
	reserved int64      // the last id NextMessageID handed out
	heads    auditHeads // chains' last rows as this transaction appended them
}

// Lock takes the chains' advisory locks, in ascending order, in one round
// trip (see ChainLockKey), which begins the transaction when it is the
// first thing it does (see lazyTx).
func (t *tx) Lock(chains ...string) error {
	todo, err := t.locks.Take(chains)
	if err != nil || len(todo) == 0 {
		return err
	}
	return t.tx.lock(todo)
}

func (t *tx) Signal(topics ...string) {
	if t.signals != nil {
		*t.signals = append(*t.signals, topics...)
	}
}

// fail translates a driver error met while doing what.
func (t *tx) fail(what string, err error) error {
	return translate(what, err, t.tx.closed())
}

func (t *tx) exec(what, query string, args ...any) (pgconn.CommandTag, error) {
	tag, err := t.tx.Exec(t.ctx, query, args...)
	if err != nil {
		return tag, t.fail(what, err)
	}
	return tag, nil
}

// ts rounds t down to the millisecond: SQLite keeps Unix milliseconds, and
// both stores must return the same times (the audit digest covers them).
func ts(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

// nullTS is ts, or NULL for the zero time.
func nullTS(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	v := ts(t)
	return &v
}

func fromTS(t time.Time) time.Time { return t.UTC() }

func (t *tx) CreateConversation(c bridge.Conversation) error {
	_, err := t.exec("create conversation",
		`INSERT INTO conversations (id, role_a, role_b, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		c.ID, c.RoleA, c.RoleB, ts(c.CreatedAt), ts(c.ExpiresAt))
	return err
}

const conversationColumns = `id, role_a, role_b, created_at, expires_at`

func scanConversation(row pgx.Row) (bridge.Conversation, error) {
	var c bridge.Conversation
	err := row.Scan(&c.ID, &c.RoleA, &c.RoleB, &c.CreatedAt, &c.ExpiresAt)
	c.CreatedAt, c.ExpiresAt = fromTS(c.CreatedAt), fromTS(c.ExpiresAt)
	return c, err
}

func (t *tx) Conversation(id string) (bridge.Conversation, error) {
	c, err := scanConversation(t.tx.QueryRow(t.ctx, `SELECT `+conversationColumns+` FROM conversations WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, bridge.ConversationNotFound(id)
	}
	if err != nil {
		return c, t.fail("read conversation", err)
	}
	return c, nil
}

func (t *tx) Conversations() ([]bridge.Conversation, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT `+conversationColumns+` FROM conversations ORDER BY created_at, id COLLATE "C"`) // bytewise, as SQLite compares text
	if err != nil {
		return nil, t.fail("list conversations", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bridge.Conversation, error) { return scanConversation(r) })
	if err != nil {
		return nil, t.fail("list conversations", err)
	}
	return out, nil
}

// The message row, its inbox rows and the recipients' unread counters in
// one statement, so a send costs one round trip for all three: $12 is the
// recipient (Broadcast, "*", for every other active member), $13 the read
// time (an import's; NULL, counted unread, for a send).
const insertDelivered = `WITH m AS (
	INSERT INTO messages (id, conversation_id, sender, recipient, reply_to, action_type, body, files, created_at, system, mac)
	VALUES (COALESCE($1, nextval('messages_id_seq')), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id
), r AS (
	SELECT member_id FROM members WHERE conversation_id = $2 AND (member_id = $12 OR ($12 = '*' AND left_at IS NULL AND member_id <> $3))
), d AS (
	INSERT INTO inbox (conversation_id, member_id, message_id, read_at)
	SELECT $2, r.member_id, m.id, $13::timestamptz FROM m, r
), u AS (
	UPDATE members SET unread = unread + 1 WHERE $13::timestamptz IS NULL AND conversation_id = $2 AND member_id IN (SELECT member_id FROM r)
)
SELECT id FROM m`

func (t *tx) AddMessage(m *bridge.Message) error {
	_, err := t.insertMessage(m, true)
	return err
}

// insertMessage stores m's row, and with deliver its inbox rows and
// counters, and sets its ID and To; it returns m.ReadAt as a column value.
func (t *tx) insertMessage(m *bridge.Message, deliver bool) (*time.Time, error) {
	files := m.Files
	if files == nil {
		files = []string{}
	}
	to := m.To
	if to == "" {
		to = bridge.Broadcast
	}
	var id0, replyTo *int64
	if m.ID != 0 {
		id0 = &m.ID // imports keep their ids
	}
	if m.ReplyTo != 0 {
		replyTo = &m.ReplyTo
	}
	readAt := nullTS(m.ReadAt)
	// Ids come from a sequence (writers of different conversations run at
	// once); an imported id beyond it moves the sequence past it, so the
	// sequence never hands it out again.
	if m.ID != 0 && m.ID != t.reserved {
		if _, err := t.exec("reserve imported message id", `SELECT setval('messages_id_seq', $1) FROM messages_id_seq WHERE last_value < $1`, m.ID); err != nil {
			return nil, err
		}
	}
	args := []any{id0, m.ConversationID, string(m.From), string(to), replyTo, m.ActionType, m.Body, files, ts(m.CreatedAt), m.System, m.MAC}
	query := `INSERT INTO messages (id, conversation_id, sender, recipient, reply_to, action_type, body, files, created_at, system, mac)
		 VALUES (COALESCE($1, nextval('messages_id_seq')), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`
	if deliver {
		query, args = insertDelivered, append(args, string(to), readAt)
	}
	var id int64
	if err := t.tx.QueryRow(t.ctx, query, args...).Scan(&id); err != nil {
		return nil, t.fail("add message", err)
	}
	m.ID, m.To = id, to
	return readAt, nil
}

// NextMessageID draws the next id from the sequence.
func (t *tx) NextMessageID() (int64, error) {
	var id int64
	if err := t.tx.QueryRow(t.ctx, `SELECT nextval('messages_id_seq')`).Scan(&id); err != nil {
		return 0, t.fail("next message id", err)
	}
	t.reserved = id
	return id, nil
}

const messageColumns = `m.id, m.conversation_id, m.sender, m.recipient, m.reply_to, m.action_type, m.body, m.files, m.created_at, m.system, m.mac`

// scanMessage reads a row of messageColumns followed by a read time.
func scanMessage(row pgx.CollectableRow) (bridge.Message, error) {
	var m bridge.Message
	var from, to string
	var read *time.Time
	var replyTo *int64
	if err := row.Scan(&m.ID, &m.ConversationID, &from, &to, &replyTo, &m.ActionType, &m.Body, &m.Files, &m.CreatedAt, &m.System, &m.MAC, &read); err != nil {
		return m, err
	}
	m.From, m.To = bridge.Member(from), bridge.Member(to)
	if replyTo != nil {
		m.ReplyTo = *replyTo
	}
	if m.Files == nil {
		m.Files = []string{} // as SQLite's JSON "[]" decodes
	}
	m.CreatedAt = fromTS(m.CreatedAt)
	if read != nil {
		m.ReadAt = fromTS(*read)
	}
	return m, nil
}

func (t *tx) messages(what, query string, args ...any) ([]bridge.Message, error) {
	rows, err := t.tx.Query(t.ctx, query, args...)
	if err != nil {
		return nil, t.fail(what, err)
	}
	msgs, err := pgx.CollectRows(rows, scanMessage)
	if err != nil {
		return nil, t.fail(what, err)
	}
	return msgs, nil
}

const inboxQuery = `SELECT ` + messageColumns + `, i.read_at FROM inbox i JOIN messages m ON m.id = i.message_id
	WHERE i.conversation_id = $1 AND i.member_id = $2`

func (t *tx) TakeUnread(conversationID string, to bridge.Member, now time.Time, limit int) ([]bridge.Message, error) {
	msgs, err := t.PeekUnread(conversationID, to, limit)
	if err != nil || len(msgs) == 0 {
		return msgs, err
	}
	// Every writer of this conversation holds its lock: the rows just
	// read are exactly the unread ones up to the last id.
	last := msgs[len(msgs)-1].ID
	if _, err := t.exec("take unread messages", `UPDATE inbox SET read_at = $1
		 WHERE conversation_id = $2 AND member_id = $3 AND read_at IS NULL AND message_id <= $4`,
		ts(now), conversationID, string(to), last); err != nil {
		return nil, err
	}
	if _, err := t.exec("count unread", `UPDATE members SET unread = greatest(unread - $1, 0) WHERE conversation_id = $2 AND member_id = $3`,
		len(msgs), conversationID, string(to)); err != nil {
		return nil, err
	}
	for i := range msgs {
		msgs[i].ReadAt = fromTS(ts(now))
	}
	return msgs, nil
}

func (t *tx) Messages(conversationID string) ([]bridge.Message, error) {
	// A message counts as read once every recipient has read it.
	return t.messages("read messages", `SELECT `+messageColumns+`, (SELECT CASE WHEN count(*) > 0 AND count(i.read_at) = count(*) THEN max(i.read_at) END
		FROM inbox i WHERE i.message_id = m.id) FROM messages m WHERE m.conversation_id = $1 ORDER BY m.id`, conversationID)
}

func (t *tx) count(what, query string, args ...any) (int, error) {
	var n int
	if err := t.tx.QueryRow(t.ctx, query, args...).Scan(&n); err != nil {
		return 0, t.fail(what, err)
	}
	return n, nil
}

func (t *tx) UnreadCount(conversationID string, to bridge.Member) (int, error) {
	var n int
	err := t.tx.QueryRow(t.ctx, `SELECT unread FROM members WHERE conversation_id = $1 AND member_id = $2`,
		conversationID, string(to)).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, t.fail("count unread messages", err)
	}
	return n, nil
}

func (t *tx) PeekUnread(conversationID string, to bridge.Member, limit int) ([]bridge.Message, error) {
	return t.messages("read unread messages", inboxQuery+` AND i.read_at IS NULL ORDER BY i.message_id LIMIT $3`,
		conversationID, string(to), limit)
}

func (t *tx) History(conversationID string, to bridge.Member, afterID int64, since time.Time, limit int) ([]bridge.Message, error) {
	return t.messages("read message history", inboxQuery+` AND i.message_id > $3 AND m.created_at >= $4 ORDER BY i.message_id LIMIT $5`,
		conversationID, string(to), afterID, ts(since), limit)
}

func (t *tx) Receipt(conversationID string, from, to bridge.Member) (bridge.Receipt, error) {
	var r bridge.Receipt
	var err error
	r.Unread, err = t.count("read receipt",
		`SELECT count(*) FROM inbox i JOIN messages m ON m.id = i.message_id
		 WHERE i.conversation_id = $1 AND m.sender = $2 AND ($3 = '' OR i.member_id = $3) AND i.read_at IS NULL`,
		conversationID, string(from), string(to))
	if err != nil {
		return r, err
	}
	err = t.tx.QueryRow(t.ctx, `SELECT i.message_id, i.read_at FROM inbox i JOIN messages m ON m.id = i.message_id
		WHERE i.conversation_id = $1 AND m.sender = $2 AND ($3 = '' OR i.member_id = $3) AND i.read_at IS NOT NULL
		ORDER BY i.message_id DESC, i.read_at DESC LIMIT 1`,
		conversationID, string(from), string(to)).Scan(&r.LastReadID, &r.LastReadAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return r, nil
	case err != nil:
		return r, t.fail("read receipt", err)
	}
	r.LastReadAt = fromTS(r.LastReadAt)
	return r, nil
}

func (t *tx) SetExpiry(conversationID string, expires time.Time) error {
	_, err := t.exec("set expiry", `UPDATE conversations SET expires_at = $1 WHERE id = $2`, ts(expires), conversationID)
	return err
}

func (t *tx) SetState(conversationID string, s bridge.Member, status string, at time.Time) error {
	tag, err := t.exec("set status",
		`UPDATE members SET status = $1, heartbeat = $2 WHERE conversation_id = $3 AND member_id = $4`,
		status, ts(at), conversationID, string(s))
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("set status: no member %s in %s", s, conversationID)
	}
	return nil
}

func (t *tx) State(conversationID string, s bridge.Member) (bridge.SessionState, error) {
	st := bridge.SessionState{Session: s, Status: bridge.StatusUnknown}
	var hb *time.Time
	err := t.tx.QueryRow(t.ctx, `SELECT status, heartbeat FROM members WHERE conversation_id = $1 AND member_id = $2`,
		conversationID, string(s)).Scan(&st.Status, &hb)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, t.fail("read status", err)
	}
	if hb != nil {
		st.Heartbeat = fromTS(*hb)
	}
	return st, nil
}

func (t *tx) Touch(conversationID string, s bridge.Member, at time.Time) error {
	_, err := t.exec("record heartbeat",
		`UPDATE members SET heartbeat = greatest(heartbeat, $1) WHERE conversation_id = $2 AND member_id = $3`,
		ts(at), conversationID, string(s))
	return err
}

func (t *tx) RequestTimes(subject string, since time.Time) ([]time.Time, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT at FROM rate_events WHERE subject = $1 AND at >= $2 ORDER BY at`, subject, ts(since))
	if err != nil {
		return nil, t.fail("read rate events", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (time.Time, error) {
		var at time.Time
		err := r.Scan(&at)
		return fromTS(at), err
	})
	if err != nil {
		return nil, t.fail("read rate events", err)
	}
	return out, nil
}

func (t *tx) AddRequest(subject, conversationID string, at, forgetBefore time.Time) error {
	if !forgetBefore.IsZero() {
		if _, err := t.exec("forget rate events", `DELETE FROM rate_events WHERE subject = $1 AND at < $2`, subject, ts(forgetBefore)); err != nil {
			return err
		}
	}
	_, err := t.exec("add rate event", `INSERT INTO rate_events (subject, conversation_id, at) VALUES ($1, $2, $3)`, subject, conversationID, ts(at))
	return err
}

func (t *tx) SeeEndpoint(e bridge.Endpoint) error {
	_, err := t.exec("record endpoint",
		`INSERT INTO endpoints (workdir, conversation_id, session, seen_at) VALUES ($1, $2, $3, $4)
		 ON CONFLICT (workdir, conversation_id, session) DO UPDATE SET seen_at = greatest(endpoints.seen_at, excluded.seen_at)`,
		e.Workdir, e.ConversationID, string(e.Session), ts(e.SeenAt))
	return err
}

func (t *tx) Endpoints(workdir string, since time.Time) ([]bridge.Endpoint, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT workdir, conversation_id, session, seen_at FROM endpoints
		WHERE workdir = $1 AND seen_at >= $2 ORDER BY seen_at DESC`, workdir, ts(since))
	if err != nil {
		return nil, t.fail("read endpoints", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bridge.Endpoint, error) {
		var e bridge.Endpoint
		var sess string
		err := r.Scan(&e.Workdir, &e.ConversationID, &sess, &e.SeenAt)
		e.Session, e.SeenAt = bridge.Session(sess), fromTS(e.SeenAt)
		return e, err
	})
	if err != nil {
		return nil, t.fail("read endpoints", err)
	}
	return out, nil
}

func (t *tx) OpenSilence(conversationID string, s bridge.Session, heartbeat, at time.Time) (bool, error) {
	tag, err := t.exec("open silence",
		`INSERT INTO silences (conversation_id, session, heartbeat, reported_at) VALUES ($1, $2, $3, $4)
		 ON CONFLICT DO NOTHING`, conversationID, string(s), ts(heartbeat), ts(at))
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

func (t *tx) CloseSilences(conversationID string, s bridge.Session, heartbeat, at time.Time) (int, error) {
	tag, err := t.exec("close silence",
		`UPDATE silences SET ended_at = $1
		 WHERE conversation_id = $2 AND session = $3 AND ended_at IS NULL AND heartbeat < $4`,
		ts(at), conversationID, string(s), ts(heartbeat))
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func (t *tx) LastAudit(chain string) (int64, string, error) {
	if h, ok := t.heads[chain]; ok {
		return h.seq, h.digest, nil
	}
	var seq int64
	var digest string
	err := t.tx.QueryRow(t.ctx, `SELECT seq, digest FROM audit WHERE chain = $1 ORDER BY seq DESC LIMIT 1`, chain).Scan(&seq, &digest)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", t.fail("read audit head", err)
	}
	return seq, digest, nil
}

func (t *tx) AppendAudit(e bridge.AuditEntry) error {
	_, err := t.exec("append audit row",
		`INSERT INTO audit (chain, seq, at, tool, conversation_id, session, outcome, error_kind, detail, refs, prev_digest, digest)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		e.Chain, e.Seq, ts(e.At), e.Tool, e.ConversationID, e.Session, e.Outcome, string(e.ErrorKind), e.Detail, e.Refs, e.PrevDigest, e.Digest)
	if err == nil {
		t.heads.set(e.Chain, e.Seq, e.Digest)
	}
	return err
}

const auditColumns = `chain, seq, at, tool, conversation_id, session, outcome, error_kind, detail, refs, prev_digest, digest`

func (t *tx) queryAudit(fn func(bridge.AuditEntry) error, query string, args ...any) error {
	rows, err := t.tx.Query(t.ctx, query, args...)
	if err != nil {
		return t.fail("read audit", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e bridge.AuditEntry
		var kind string
		if err := rows.Scan(&e.Chain, &e.Seq, &e.At, &e.Tool, &e.ConversationID, &e.Session, &e.Outcome, &kind, &e.Detail, &e.Refs, &e.PrevDigest, &e.Digest); err != nil {
			return t.fail("read audit", err)
		}
		e.At, e.ErrorKind = fromTS(e.At), bridge.ErrorKind(kind)
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return t.fail("read audit", err)
	}
	return nil
}

func (t *tx) Audit(f bridge.AuditFilter) ([]bridge.AuditEntry, error) {
	var where []string
	var args []any
	if f.ConversationID != "" {
		args = append(args, f.ConversationID)
		where = append(where, fmt.Sprintf("conversation_id = $%d", len(args)))
	}
	q := `SELECT ` + auditColumns + ` FROM audit`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC` // the order rows were written in
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(args))
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
		return t.queryAudit(fn, `SELECT `+auditColumns+` FROM audit WHERE chain = $1 ORDER BY seq`, *chain)
	}
	return t.queryAudit(fn, `SELECT `+auditColumns+` FROM audit ORDER BY chain COLLATE "C", seq`)
}

func (t *tx) DeleteAudit(chain string, through int64) (int, error) {
	delete(t.heads, chain)
	tag, err := t.exec("prune audit", `DELETE FROM audit WHERE chain = $1 AND seq <= $2`, chain, through)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func (t *tx) DeleteExpired(now time.Time) (bridge.Cleanup, error) {
	var out bridge.Cleanup
	const expired = `SELECT id FROM conversations WHERE expires_at <= $1`
	var err error
	if out.Messages, err = t.count("cleanup: count messages",
		`SELECT count(*) FROM messages WHERE conversation_id IN (`+expired+`)`, ts(now)); err != nil {
		return out, err
	}
	if out.Statuses, err = t.count("cleanup: count members",
		`SELECT count(*) FROM members WHERE conversation_id IN (`+expired+`)`, ts(now)); err != nil {
		return out, err
	}
	if _, err := t.exec("cleanup: forget rate events",
		`DELETE FROM rate_events WHERE conversation_id IN (`+expired+`)`, ts(now)); err != nil {
		return out, err
	}
	// Events of subjects that are no conversation's (per-origin create
	// limits) are forgotten once older than any limit window.
	if _, err := t.exec("cleanup: forget old rate events", `DELETE FROM rate_events WHERE at < $1`, ts(now.Add(-bridge.RateMemory))); err != nil {
		return out, err
	}
	// Messages, inboxes, members, invites, endpoints and silences go with their
	// conversation (ON DELETE CASCADE).
	tag, err := t.exec("cleanup: delete conversations", `DELETE FROM conversations WHERE expires_at <= $1`, ts(now))
	if err != nil {
		return out, err
	}
	out.Conversations = int(tag.RowsAffected())
	if tag, err = t.exec("cleanup: forget ended sessions", `DELETE FROM ended_sessions WHERE expires_at <= $1`, ts(now)); err != nil {
		return out, err
	}
	out.Sessions = int(tag.RowsAffected())
	return out, nil
}
