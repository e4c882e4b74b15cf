package mcpserver

// tools lists the bridge's tools: the original project's five, with its
// names and arguments (optional arguments added), then ours.
func (h *handlers) tools() []tool {
	return []tool{
		h.createConversation(),
		h.sendToPartner(),
		h.checkMessages(),
		h.updateMyStatus(),
		h.checkPartnerStatus(),
		// Added; the original five are unchanged for two members.
		h.inviteMember(),
		h.joinConversation(),
		h.leaveConversation(),
		h.extendConversation(),
		h.tasksTool(),
		// The original's optional pair, listed only in YOLO mode (hideYolo).
		h.enableYoloMode(),
		h.executeCommand(),
	}
}
