package sqlite

import (
	"database/sql"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func (t *tx) ImportMessage(m *bridge.Message, to []bridge.Delivery) error {
	m.ReadAt = time.Time{} // delivery state comes from `to`
	if _, err := t.insertMessage(m); err != nil {
		return err
	}
	for _, d := range to {
		if _, err := t.exec("deliver message", `INSERT INTO inbox (conversation_id, member_id, message_id, read_at) VALUES (?, ?, ?, ?)`,
			m.ConversationID, string(d.Member), m.ID, nullMS(d.ReadAt)); err != nil {
			return err
		}
		if d.ReadAt.IsZero() {
			if _, err := t.exec("count unread", `UPDATE members SET unread = unread + 1 WHERE conversation_id = ? AND member_id = ?`,
				m.ConversationID, string(d.Member)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *tx) Deliveries(conversationID string) ([]bridge.Delivery, error) {
	return collect(t, "read deliveries", func(r scanner) (bridge.Delivery, error) {
		var d bridge.Delivery
		var member string
		var read sql.NullInt64
		err := r.Scan(&d.MessageID, &member, &read)
		d.Member, d.ReadAt = bridge.Member(member), fromNullMS(read)
		return d, err
	}, `SELECT message_id, member_id, read_at FROM inbox WHERE conversation_id = ? ORDER BY message_id, member_id`, conversationID)
}
