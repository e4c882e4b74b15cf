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
