package postgres

import (
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func (t *tx) ImportMessage(m *bridge.Message, to []bridge.Delivery) error {
	m.ReadAt = time.Time{} // delivery state comes from `to`
	if _, err := t.insertMessage(m, false); err != nil {
		return err
	}
	for _, d := range to {
		if _, err := t.exec("deliver message", `INSERT INTO inbox (conversation_id, member_id, message_id, read_at) VALUES ($1, $2, $3, $4)`,
			m.ConversationID, string(d.Member), m.ID, nullTS(d.ReadAt)); err != nil {
			return err
		}
		if d.ReadAt.IsZero() {
			if _, err := t.exec("count unread", `UPDATE members SET unread = unread + 1 WHERE conversation_id = $1 AND member_id = $2`,
				m.ConversationID, string(d.Member)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *tx) Deliveries(conversationID string) ([]bridge.Delivery, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT message_id, member_id, read_at FROM inbox WHERE conversation_id = $1 ORDER BY message_id, member_id`, conversationID)
	if err != nil {
		return nil, t.fail("read deliveries", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (bridge.Delivery, error) {
		var d bridge.Delivery
		var member string
		var read *time.Time
		err := row.Scan(&d.MessageID, &member, &read)
		d.Member = bridge.Member(member)
		if read != nil {
			d.ReadAt = read.UTC()
		}
		return d, err
	})
	if err != nil {
		return nil, t.fail("read deliveries", err)
	}
	return out, nil
}
