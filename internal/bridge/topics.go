package bridge

// Topics name what a write changed, for Store.Watch: a waiter wakes only
// for writes that raised a topic it watches.

// InboxTopic is raised when a message for member of conversation is stored.
func InboxTopic(conversationID string, member Session) string {
	return "inbox/" + conversationID + "/" + string(member)
}

// ConversationTopic is raised by any change to a conversation: every call
// that names it (messages, reads, statuses, heartbeats, members, invites,
// expiry, approvals), accepted or refused.
func ConversationTopic(conversationID string) string { return "conv/" + conversationID }

// Store-wide topics. Each is raised only by the writes named, so a waiter
// on one pays nothing for the rest of the traffic.
const (
	// ApprovalsTopic is raised when a consent request is made or decided.
	ApprovalsTopic = "approvals"
	// ConversationsTopic is raised when the set of conversations changes:
	// one is created or imported, or cleanup removes expired ones. A view
	// of every live conversation watches it and each shown conversation's
	// ConversationTopic.
	ConversationsTopic = "conversations"
	// AuditTopic is raised by every audit row appended.
	AuditTopic = "audit"
	// EndpointsTopic is raised when the working directory of a member's
	// agent is recorded (at most once a minute per member and process):
	// a hook waiting for a project's conversations learns of a new one.
	EndpointsTopic = "endpoints"
)

// callTopics raises what every accepted call changes: the audit trail and,
// when it names one, its conversation.
func callTopics(tx Tx, conversationID string) {
	tx.Signal(AuditTopic)
	if ValidConversationID(conversationID) {
		tx.Signal(ConversationTopic(conversationID))
	}
}

// addMessage stores m and raises the topics its recipients wait on: the
// addressee's inbox, or for a broadcast the conversation's broadcast inbox
// (every member's waiter watches both).
func addMessage(tx Tx, m *Message) error {
	if err := tx.AddMessage(m); err != nil {
		return err
	}
	tx.Signal(InboxTopic(m.ConversationID, m.To), ConversationTopic(m.ConversationID))
	return nil
}

// InboxTopics are the topics a waiter for member's messages watches: its
// own inbox and the conversation's broadcasts.
func InboxTopics(conversationID string, member Member) []string {
	return []string{InboxTopic(conversationID, member), InboxTopic(conversationID, Broadcast)}
}

// WatchTopics returns a channel closed after a later write, by any
// process, that raised one of topics, and a function releasing the watch
// (see Store.Watch): for fronts that wait, such as approve --wait.
func (s *Service) WatchTopics(topics ...string) (<-chan struct{}, func()) {
	return s.store.Watch(topics...)
}
