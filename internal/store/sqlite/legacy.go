package sqlite

import (
	"fmt"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func (t *tx) LegacyPending() (bool, error) {
	var n int
	if err := t.queryRow(`SELECT count(*) FROM legacy_seal`).Scan(&n); err != nil {
		return false, fmt.Errorf("read legacy seal mark: %w", err)
	}
	return n > 0, nil
}

func (t *tx) SealLegacy(seal bridge.Sealer) (bridge.LegacySealed, error) {
	var out bridge.LegacySealed
	rows, err := t.query(`SELECT ` + messageColumns + `, NULL FROM messages m WHERE m.mac = '' ORDER BY m.id`)
	if err != nil {
		return out, fmt.Errorf("seal legacy messages: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return out, fmt.Errorf("seal legacy messages: %w", err)
	}
	for _, m := range msgs {
		if _, err := t.exec("seal legacy message", `UPDATE messages SET mac = ? WHERE id = ?`, seal.Message(m), m.ID); err != nil {
			return out, err
		}
		out.Messages++
		out.ThroughMessage = max(out.ThroughMessage, m.ID)
	}
	mrows, err := t.query(`SELECT ` + memberColumns + ` FROM members WHERE mac = ''`)
	if err != nil {
		return out, fmt.Errorf("seal legacy members: %w", err)
	}
	var members []bridge.Membership
	for mrows.Next() {
		m, err := scanMember(mrows)
		if err != nil {
			mrows.Close()
			return out, fmt.Errorf("seal legacy members: %w", err)
		}
		members = append(members, m)
	}
	mrows.Close()
	if err := mrows.Err(); err != nil {
		return out, fmt.Errorf("seal legacy members: %w", err)
	}
	for _, m := range members {
		if _, err := t.exec("seal legacy member", `UPDATE members SET mac = ? WHERE conversation_id = ? AND member_id = ?`,
			seal.Member(m), m.ConversationID, string(m.Member)); err != nil {
			return out, err
		}
		out.Members++
	}
	invs, err := t.invites(`SELECT ` + inviteColumns + ` FROM invites WHERE mac = ''`)
	if err != nil {
		return out, err
	}
	for _, inv := range invs {
		if _, err := t.exec("seal legacy invite", `UPDATE invites SET mac = ? WHERE code_hash = ?`, seal.Invite(inv), inv.CodeHash); err != nil {
			return out, err
		}
		out.Invites++
	}
	_, err = t.exec("clear legacy seal mark", `DELETE FROM legacy_seal`)
	return out, err
}

func (t *tx) DropLegacyMark() error {
	_, err := t.exec("clear legacy seal mark", `DELETE FROM legacy_seal`)
	return err
}
