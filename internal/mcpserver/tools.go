package mcpserver

// tools lists the bridge's tools: the original project's five, with its
// names and arguments, then ours.
func (h *handlers) tools() []tool {
	return []tool{
		h.createConversation(),
		h.sendToPartner(),
		h.checkMessages(),
		h.updateMyStatus(),
		h.checkPartnerStatus(),
		h.extendConversation(), // added; the original five are unchanged
		// The original's optional pair, listed only in YOLO mode (hideYolo).
		h.enableYoloMode(),
		h.executeCommand(),
	}
}
