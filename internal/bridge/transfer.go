package bridge

import (
	"context"
	"fmt"
	"time"
)

// Snapshot is one conversation with everything stored about it, for export
// and import between databases.
type Snapshot struct {
	Conversation Conversation
	States       []SessionState // sessions that ever called
	Messages     []Message      // as stored (redacted), oldest first
	Audit        []AuditEntry   // the conversation's audit rows, oldest first
}

// Export returns a snapshot of one conversation. The export is audited.
func (s *Service) Export(ctx context.Context, id string) (Snapshot, error) {
	var out Snapshot
	err := s.call(ctx, "cli:export", id, "", func(tx Tx, _ time.Time) (string, error) {
		if !ValidConversationID(id) {
			return "", Errorf(EInvalid, "%q is not a conversation id (conv_ followed by 16 hex digits)", id)
		}
		var err error
		if out.Conversation, err = tx.Conversation(id); err != nil {
			return "", err
		}
		for _, sess := range []Session{SessionA, SessionB} {
			st, err := tx.State(id, sess)
			if err != nil {
				return "", err
			}
			if !st.Heartbeat.IsZero() {
				out.States = append(out.States, st)
			}
		}
		if out.Messages, err = tx.Messages(id); err != nil {
			return "", err
		}
		if out.Audit, err = tx.Audit(AuditFilter{ConversationID: id}); err != nil {
			return "", err
		}
		return fmt.Sprintf("exported %d messages, %d audit rows", len(out.Messages), len(out.Audit)), nil
	})
	return out, err
}

// Import stores a snapshot's conversation, statuses and messages, keeping
// their ids and times. It never overwrites: an id that exists is refused,
// unless rename gives the conversation a new id (and its messages new
// ids). The snapshot's audit rows are not re-chained into this store's
// trail (their digests belong to the source's key); the import itself is
// audited. Tokens derive from this store's key: `tokens ID` shows them.
func (s *Service) Import(ctx context.Context, snap Snapshot, rename bool) (Conversation, error) {
	conv := snap.Conversation
	err := s.call(ctx, "cli:import", conv.ID, "", func(tx Tx, _ time.Time) (string, error) {
		if !ValidConversationID(conv.ID) {
			return "", Errorf(EInvalid, "the export's conversation id %q is malformed", conv.ID)
		}
		_, err := tx.Conversation(conv.ID)
		switch {
		case err == nil && !rename:
			return "", Errorf(EInvalid, "conversation %s already exists in this database; pass --rename to import it under a new id", conv.ID)
		case err == nil:
			if conv.ID, err = newConversationID(); err != nil {
				return "", err
			}
		case !IsNotFound(err):
			return "", err
		}
		if err := tx.CreateConversation(conv); err != nil {
			return "", err
		}
		for _, m := range []Member{SessionA, SessionB} {
			if err := tx.AddMember(Membership{ConversationID: conv.ID, Member: m, Role: conv.Role(m), JoinedAt: conv.CreatedAt}); err != nil {
				return "", err
			}
		}
		for _, st := range snap.States {
			if !st.Session.Valid() || st.Heartbeat.IsZero() {
				return "", Errorf(EInvalid, "the export has a malformed status for session %q", st.Session)
			}
			if err := tx.SetState(conv.ID, st.Session, st.Status, st.Heartbeat); err != nil {
				return "", err
			}
		}
		for _, m := range snap.Messages {
			if !m.From.Valid() {
				return "", Errorf(EInvalid, "message %d of the export has sender %q", m.ID, m.From)
			}
			m.ConversationID = conv.ID
			if rename {
				m.ID = 0
			}
			if err := tx.AddMessage(&m); err != nil {
				if !rename {
					return "", Errorf(EInvalid, "message id %d is taken in this database; pass --rename to import with new ids", m.ID)
				}
				return "", err
			}
		}
		return fmt.Sprintf("imported %s as %s: %d messages, %d statuses (%d source audit rows not re-chained)",
			snap.Conversation.ID, conv.ID, len(snap.Messages), len(snap.States), len(snap.Audit)), nil
	})
	return conv, err
}
