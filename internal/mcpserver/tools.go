package mcpserver

// tools lists the bridge's tools in the order clients show them: the
// original project's five, with its names and arguments.
func (h *handlers) tools() []tool {
	return []tool{
		h.createConversation(),
		h.sendToPartner(),
		h.checkMessages(),
		h.updateMyStatus(),
		h.checkPartnerStatus(),
	}
}
