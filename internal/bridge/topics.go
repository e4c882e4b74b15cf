package bridge

// Topics name what a write changed, for Store.Watch: a waiter wakes only
// for writes that raised a topic it watches.

// InboxTopic is raised when a message for member of conversation is stored.
func InboxTopic(conversationID string, member Session) string {
	return "inbox/" + conversationID + "/" + string(member)
}

// ConversationTopic is raised by any change to a conversation.
func ConversationTopic(conversationID string) string { return "conv/" + conversationID }

// ApprovalsTopic is raised when a consent request is made or decided.
const ApprovalsTopic = "approvals"

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

// inboxTopics are the topics a waiter for member's messages watches.
func inboxTopics(conversationID string, member Member) []string {
	return []string{InboxTopic(conversationID, member), InboxTopic(conversationID, Broadcast)}
}

// WatchTopics returns a channel closed after a later write, by any
// process, that raised one of topics, and a function releasing the watch
// (see Store.Watch): for fronts that wait, such as approve --wait.
func (s *Service) WatchTopics(topics ...string) (<-chan struct{}, func()) {
	return s.store.Watch(topics...)
}
