package postgres

import (
	"github.com/jackc/pgx/v5"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func (t *tx) LegacyPending() (bool, error) {
	var pending bool
	if err := t.tx.QueryRow(t.ctx, `SELECT EXISTS (SELECT 1 FROM legacy_seal)`).Scan(&pending); err != nil {
		return false, t.fail("read legacy seal mark", err)
	}
	return pending, nil
}

func (t *tx) SealLegacy(seal bridge.Sealer) (bridge.LegacySealed, error) {
	var out bridge.LegacySealed
	msgs, err := t.messages("seal legacy messages", `SELECT `+messageColumns+`, NULL::timestamptz FROM messages m WHERE m.mac = '' ORDER BY m.id`)
	if err != nil {
		return out, err
	}
	for _, m := range msgs {
		if _, err := t.exec("seal legacy message", `UPDATE messages SET mac = $1 WHERE id = $2`, seal.Message(m), m.ID); err != nil {
			return out, err
		}
		out.Messages++
		out.ThroughMessage = max(out.ThroughMessage, m.ID)
	}
	rows, err := t.tx.Query(t.ctx, `SELECT `+memberColumns+` FROM members WHERE mac = ''`)
	if err != nil {
		return out, t.fail("seal legacy members", err)
	}
	members, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bridge.Membership, error) { return scanMember(r) })
	if err != nil {
		return out, t.fail("seal legacy members", err)
	}
	for _, m := range members {
		if _, err := t.exec("seal legacy member", `UPDATE members SET mac = $1 WHERE conversation_id = $2 AND member_id = $3`,
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
		if _, err := t.exec("seal legacy invite", `UPDATE invites SET mac = $1 WHERE code_hash = $2`, seal.Invite(inv), inv.CodeHash); err != nil {
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
