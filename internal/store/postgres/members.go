package postgres

import (
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func (t *tx) AddMember(m bridge.Membership) error {
	status := m.Status
	if status == "" {
		status = bridge.StatusUnknown
	}
	_, err := t.exec("add member",
		`INSERT INTO members (conversation_id, member_id, role, generation, status, heartbeat, joined_at, left_at, unread, mac)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, 0, $8)
		 ON CONFLICT (conversation_id, member_id) DO UPDATE SET role = excluded.role, generation = excluded.generation,
		   status = excluded.status, heartbeat = excluded.heartbeat, joined_at = excluded.joined_at, left_at = NULL, mac = excluded.mac`,
		m.ConversationID, string(m.Member), m.Role, m.Generation, status, nullTS(m.Heartbeat), ts(m.JoinedAt), m.MAC)
	return err
}

const memberColumns = `conversation_id, member_id, role, generation, status, heartbeat, joined_at, left_at, unread, mac`

func scanMember(row pgx.Row) (bridge.Membership, error) {
	var m bridge.Membership
	var id string
	var hb, left *time.Time
	err := row.Scan(&m.ConversationID, &id, &m.Role, &m.Generation, &m.Status, &hb, &m.JoinedAt, &left, &m.Unread, &m.MAC)
	m.Member, m.JoinedAt = bridge.Member(id), fromTS(m.JoinedAt)
	if hb != nil {
		m.Heartbeat = fromTS(*hb)
	}
	if left != nil {
		m.LeftAt = fromTS(*left)
	}
	return m, err
}

func (t *tx) Member(conversationID string, id bridge.Member) (bridge.Membership, error) {
	m, err := scanMember(t.tx.QueryRow(t.ctx, `SELECT `+memberColumns+` FROM members WHERE conversation_id = $1 AND member_id = $2`,
		conversationID, string(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return m, bridge.MemberNotFound(conversationID, id)
	}
	if err != nil {
		return m, t.fail("read member", err)
	}
	return m, nil
}

func (t *tx) Members(conversationID string) ([]bridge.Membership, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT `+memberColumns+` FROM members WHERE conversation_id = $1 ORDER BY joined_at, member_id COLLATE "C"`, conversationID)
	if err != nil {
		return nil, t.fail("read members", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bridge.Membership, error) { return scanMember(r) })
	if err != nil {
		return nil, t.fail("read members", err)
	}
	return out, nil
}

func (t *tx) RemoveMember(conversationID string, id bridge.Member, at time.Time, mac string) error {
	_, err := t.exec("remove member", `UPDATE members SET left_at = $1, mac = $4 WHERE conversation_id = $2 AND member_id = $3 AND left_at IS NULL`,
		ts(at), conversationID, string(id), mac)
	return err
}

func (t *tx) AddInvite(inv bridge.Invite) error {
	_, err := t.exec("add invite",
		`INSERT INTO invites (code_hash, conversation_id, member_id, role, created_by, created_at, expires_at, redeemed_at, redeemed_by, mac)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		inv.CodeHash, inv.ConversationID, string(inv.Member), inv.Role, string(inv.CreatedBy), ts(inv.CreatedAt), ts(inv.ExpiresAt),
		nullTS(inv.RedeemedAt), string(inv.RedeemedBy), inv.MAC)
	return err
}

const inviteColumns = `code_hash, conversation_id, member_id, role, created_by, created_at, expires_at, redeemed_at, redeemed_by, mac`

func scanInvite(row pgx.Row) (bridge.Invite, error) {
	var inv bridge.Invite
	var member, by, redeemedBy string
	var redeemed *time.Time
	err := row.Scan(&inv.CodeHash, &inv.ConversationID, &member, &inv.Role, &by, &inv.CreatedAt, &inv.ExpiresAt, &redeemed, &redeemedBy, &inv.MAC)
	inv.Member, inv.CreatedBy, inv.RedeemedBy = bridge.Member(member), bridge.Member(by), bridge.Member(redeemedBy)
	inv.CreatedAt, inv.ExpiresAt = fromTS(inv.CreatedAt), fromTS(inv.ExpiresAt)
	if redeemed != nil {
		inv.RedeemedAt = fromTS(*redeemed)
	}
	return inv, err
}

func (t *tx) Invite(codeHash string) (bridge.Invite, error) {
	inv, err := scanInvite(t.tx.QueryRow(t.ctx, `SELECT `+inviteColumns+` FROM invites WHERE code_hash = $1`, codeHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return inv, bridge.InviteNotFound()
	}
	if err != nil {
		return inv, t.fail("read invite", err)
	}
	return inv, nil
}

func (t *tx) OpenInvites(conversationID string, now time.Time) ([]bridge.Invite, error) {
	return t.invites(`SELECT `+inviteColumns+` FROM invites
		WHERE conversation_id = $1 AND redeemed_at IS NULL AND expires_at > $2 ORDER BY created_at, code_hash COLLATE "C"`, conversationID, ts(now))
}

func (t *tx) Invites(conversationID string) ([]bridge.Invite, error) {
	return t.invites(`SELECT `+inviteColumns+` FROM invites WHERE conversation_id = $1 ORDER BY created_at, code_hash COLLATE "C"`, conversationID)
}

func (t *tx) invites(query string, args ...any) ([]bridge.Invite, error) {
	rows, err := t.tx.Query(t.ctx, query, args...)
	if err != nil {
		return nil, t.fail("read invites", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bridge.Invite, error) { return scanInvite(r) })
	if err != nil {
		return nil, t.fail("read invites", err)
	}
	return out, nil
}

func (t *tx) RedeemInvite(codeHash string, by bridge.Member, at time.Time, mac string) (bool, error) {
	tag, err := t.exec("redeem invite", `UPDATE invites SET redeemed_at = $1, redeemed_by = $2, mac = $4 WHERE code_hash = $3 AND redeemed_at IS NULL`,
		ts(at), string(by), codeHash, mac)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// ConversationMembers reads the conversation, its members (a LEFT JOIN, so
// a conversation without members still reads) and the head of its audit
// chain in one round trip. A write that holds the chain's lock keeps the
// head, so the audit row it appends needs no query for its predecessor.
func (t *tx) ConversationMembers(id string) (bridge.Conversation, []bridge.Membership, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT c.id, c.role_a, c.role_b, c.created_at, c.expires_at,
		m.member_id, m.role, m.generation, m.status, m.heartbeat, m.joined_at, m.left_at, m.unread, m.mac,
		h.seq, h.digest
		FROM conversations c
		LEFT JOIN LATERAL (SELECT seq, digest FROM audit WHERE chain = c.id ORDER BY seq DESC LIMIT 1) h ON true
		LEFT JOIN members m ON m.conversation_id = c.id
		WHERE c.id = $1 ORDER BY m.joined_at, m.member_id COLLATE "C"`, id)
	if err != nil {
		return bridge.Conversation{}, nil, t.fail("read conversation and members", err)
	}
	defer rows.Close()
	var c bridge.Conversation
	var out []bridge.Membership
	var headSeq *int64
	var headDigest *string
	found := false
	for rows.Next() {
		var member, role, status, mac *string
		var generation, unread *int
		var hb, joined, left *time.Time
		if err := rows.Scan(&c.ID, &c.RoleA, &c.RoleB, &c.CreatedAt, &c.ExpiresAt,
			&member, &role, &generation, &status, &hb, &joined, &left, &unread, &mac, &headSeq, &headDigest); err != nil {
			return bridge.Conversation{}, nil, t.fail("read conversation and members", err)
		}
		c.CreatedAt, c.ExpiresAt, found = fromTS(c.CreatedAt), fromTS(c.ExpiresAt), true
		if member == nil {
			continue // no members
		}
		m := bridge.Membership{ConversationID: c.ID, Member: bridge.Member(*member), Role: deref(role), Status: deref(status), MAC: deref(mac)}
		if generation != nil {
			m.Generation = *generation
		}
		if unread != nil {
			m.Unread = *unread
		}
		if joined != nil {
			m.JoinedAt = fromTS(*joined)
		}
		if hb != nil {
			m.Heartbeat = fromTS(*hb)
		}
		if left != nil {
			m.LeftAt = fromTS(*left)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return bridge.Conversation{}, nil, t.fail("read conversation and members", err)
	}
	if !found {
		return bridge.Conversation{}, nil, bridge.ConversationNotFound(id)
	}
	if _, known := t.heads[id]; !known && t.signals != nil && t.locks.Holds(id) {
		var seq int64
		if headSeq != nil {
			seq = *headSeq
		}
		t.heads.set(id, seq, deref(headDigest))
	}
	return c, out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
