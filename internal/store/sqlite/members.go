package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func (t *tx) AddMember(m bridge.Membership) error {
	status := m.Status
	if status == "" {
		status = bridge.StatusUnknown
	}
	_, err := t.exec("add member",
		`INSERT INTO members (conversation_id, member_id, role, generation, status, heartbeat, joined_at, left_at, unread, mac)
		 VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 0, ?)
		 ON CONFLICT (conversation_id, member_id) DO UPDATE SET role = excluded.role, generation = excluded.generation,
		   status = excluded.status, heartbeat = excluded.heartbeat, joined_at = excluded.joined_at, left_at = NULL, mac = excluded.mac`,
		m.ConversationID, string(m.Member), m.Role, m.Generation, status, nullMS(m.Heartbeat), ms(m.JoinedAt), m.MAC)
	return err
}

const memberColumns = `conversation_id, member_id, role, generation, status, heartbeat, joined_at, left_at, unread, mac`

func scanMember(row scanner) (bridge.Membership, error) {
	var m bridge.Membership
	var id string
	var hb, left sql.NullInt64
	var joined int64
	err := row.Scan(&m.ConversationID, &id, &m.Role, &m.Generation, &m.Status, &hb, &joined, &left, &m.Unread, &m.MAC)
	m.Member, m.Heartbeat, m.JoinedAt, m.LeftAt = bridge.Member(id), fromNullMS(hb), fromMS(joined), fromNullMS(left)
	return m, err
}

func (t *tx) Member(conversationID string, id bridge.Member) (bridge.Membership, error) {
	m, err := scanMember(t.queryRow(`SELECT `+memberColumns+` FROM members WHERE conversation_id = ? AND member_id = ?`,
		conversationID, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return m, bridge.MemberNotFound(conversationID, id)
	}
	if err != nil {
		return m, fmt.Errorf("read member: %w", err)
	}
	return m, nil
}

func (t *tx) Members(conversationID string) ([]bridge.Membership, error) {
	return collect(t, "read members", scanMember, `SELECT `+memberColumns+` FROM members WHERE conversation_id = ? ORDER BY joined_at, member_id`, conversationID)
}

func (t *tx) RemoveMember(conversationID string, id bridge.Member, at time.Time, mac string) error {
	_, err := t.exec("remove member", `UPDATE members SET left_at = ?, mac = ? WHERE conversation_id = ? AND member_id = ? AND left_at IS NULL`,
		ms(at), mac, conversationID, string(id))
	return err
}

func (t *tx) AddInvite(inv bridge.Invite) error {
	_, err := t.exec("add invite",
		`INSERT INTO invites (code_hash, conversation_id, member_id, role, created_by, created_at, expires_at, redeemed_at, redeemed_by, mac)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inv.CodeHash, inv.ConversationID, string(inv.Member), inv.Role, string(inv.CreatedBy), ms(inv.CreatedAt), ms(inv.ExpiresAt),
		nullMS(inv.RedeemedAt), string(inv.RedeemedBy), inv.MAC)
	return err
}

const inviteColumns = `code_hash, conversation_id, member_id, role, created_by, created_at, expires_at, redeemed_at, redeemed_by, mac`

func scanInvite(row scanner) (bridge.Invite, error) {
	var inv bridge.Invite
	var member, by, redeemedBy string
	var created, expires int64
	var redeemed sql.NullInt64
	err := row.Scan(&inv.CodeHash, &inv.ConversationID, &member, &inv.Role, &by, &created, &expires, &redeemed, &redeemedBy, &inv.MAC)
	inv.Member, inv.CreatedBy, inv.RedeemedBy = bridge.Member(member), bridge.Member(by), bridge.Member(redeemedBy)
	inv.CreatedAt, inv.ExpiresAt, inv.RedeemedAt = fromMS(created), fromMS(expires), fromNullMS(redeemed)
	return inv, err
}

func (t *tx) Invite(codeHash string) (bridge.Invite, error) {
	inv, err := scanInvite(t.queryRow(`SELECT `+inviteColumns+` FROM invites WHERE code_hash = ?`, codeHash))
	if errors.Is(err, sql.ErrNoRows) {
		return inv, bridge.InviteNotFound()
	}
	if err != nil {
		return inv, fmt.Errorf("read invite: %w", err)
	}
	return inv, nil
}

func (t *tx) OpenInvites(conversationID string, now time.Time) ([]bridge.Invite, error) {
	return t.invites(`SELECT `+inviteColumns+` FROM invites INDEXED BY invites_open
		WHERE conversation_id = ? AND redeemed_at IS NULL AND expires_at > ? ORDER BY created_at, code_hash`, conversationID, ms(now))
}

func (t *tx) Invites(conversationID string) ([]bridge.Invite, error) {
	return t.invites(`SELECT `+inviteColumns+` FROM invites WHERE conversation_id = ? ORDER BY created_at, code_hash`, conversationID)
}

func (t *tx) invites(query string, args ...any) ([]bridge.Invite, error) {
	return collect(t, "read invites", scanInvite, query, args...)
}

func (t *tx) RedeemInvite(codeHash string, by bridge.Member, at time.Time, mac string) (bool, error) {
	r, err := t.exec("redeem invite", `UPDATE invites SET redeemed_at = ?, redeemed_by = ?, mac = ? WHERE code_hash = ? AND redeemed_at IS NULL`,
		ms(at), string(by), mac, codeHash)
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

// ConversationMembers reads the conversation and its members in one
// statement (a LEFT JOIN, so a conversation without members still reads),
// with the head of its audit chain and the next message id. A write,
// which holds SQLite's one write lock, keeps both: the audit row and the
// message it adds need no statement to read them again.
func (t *tx) ConversationMembers(id string) (bridge.Conversation, []bridge.Membership, error) {
	rows, err := t.query(`SELECT c.id, c.role_a, c.role_b, c.created_at, c.expires_at,
		m.member_id, m.role, m.generation, m.status, m.heartbeat, m.joined_at, m.left_at, m.unread, m.mac,
		h.seq, h.digest, (SELECT coalesce(max(id), 0) + 1 FROM messages)
		FROM conversations c
		LEFT JOIN (SELECT seq, digest FROM audit WHERE chain = ? ORDER BY seq DESC LIMIT 1) h
		LEFT JOIN members m ON m.conversation_id = c.id
		WHERE c.id = ? ORDER BY m.joined_at, m.member_id`, id, id)
	if err != nil {
		return bridge.Conversation{}, nil, fmt.Errorf("read conversation and members: %w", err)
	}
	defer rows.Close()
	var c bridge.Conversation
	var out []bridge.Membership
	var headSeq sql.NullInt64
	var headDigest sql.NullString
	var nextID int64
	found := false
	for rows.Next() {
		var created, expires int64
		var member, role, status, mac sql.NullString
		var generation, joined, unread, hb, left sql.NullInt64
		if err := rows.Scan(&c.ID, &c.RoleA, &c.RoleB, &created, &expires,
			&member, &role, &generation, &status, &hb, &joined, &left, &unread, &mac, &headSeq, &headDigest, &nextID); err != nil {
			return bridge.Conversation{}, nil, fmt.Errorf("read conversation and members: %w", err)
		}
		c.CreatedAt, c.ExpiresAt, found = fromMS(created), fromMS(expires), true
		if !member.Valid {
			continue // no members
		}
		out = append(out, bridge.Membership{
			ConversationID: c.ID, Member: bridge.Member(member.String), Role: role.String, Generation: int(generation.Int64),
			Status: status.String, Heartbeat: fromNullMS(hb), JoinedAt: fromMS(joined.Int64), LeftAt: fromNullMS(left),
			Unread: int(unread.Int64), MAC: mac.String,
		})
	}
	if err := rows.Err(); err != nil {
		return bridge.Conversation{}, nil, fmt.Errorf("read conversation and members: %w", err)
	}
	if !found {
		return bridge.Conversation{}, nil, bridge.ConversationNotFound(id)
	}
	if t.signals != nil { // a write
		if _, known := t.heads[id]; !known {
			t.heads.set(id, headSeq.Int64, headDigest.String)
		}
		t.nextID = nextID
	}
	return c, out, nil
}
