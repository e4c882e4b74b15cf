package sqlite

import (
	"database/sql"
	"fmt"
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
	rows, err := t.query(`SELECT message_id, member_id, read_at FROM inbox WHERE conversation_id = ? ORDER BY message_id, member_id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	defer rows.Close()
	var out []bridge.Delivery
	for rows.Next() {
		var d bridge.Delivery
		var member string
		var read sql.NullInt64
		if err := rows.Scan(&d.MessageID, &member, &read); err != nil {
			return nil, fmt.Errorf("read deliveries: %w", err)
		}
		d.Member, d.ReadAt = bridge.Member(member), fromNullMS(read)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	return out, nil
}
