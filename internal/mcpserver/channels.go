package mcpserver

import (
	"context"
	"strconv"
	"sync"

	"github.com/mark3labs/mcp-go/server"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// ChannelMethod is the notification Claude Code (2.1.80 and later) shows
// in the session of a server that declares the experimental capability
// "claude/channel": a message pushed in without the agent asking.
const ChannelMethod = "notifications/claude/channel"

// channels pushes every message that reaches a member this stdio process
// serves to its client as a channel event, the moment it is stored (by any
// process). It marks nothing read: the agent still takes the message with
// check_messages, so delivery stays exactly once, and a client that
// ignores the capability sees no change. Only stdio: an HTTP node serves
// many clients, and a notification must reach only its member's.
type channels struct {
	svc *bridge.Service
	srv *server.MCPServer

	mu        sync.Mutex
	following map[string]bool // conversation/member
}

// stdioSession is the session id mcp-go gives its one stdio client.
const stdioSession = "stdio"

// follow starts pushing c's new messages, once per member, for as long as
// its conversation lasts and its token works.
func (ch *channels) follow(ctx context.Context, c bridge.Caller) {
	if clientSession(ctx) != stdioSession {
		return
	}
	key := c.ConversationID + "/" + string(c.Session)
	ch.mu.Lock()
	if ch.following == nil {
		ch.following = map[string]bool{}
	}
	started := ch.following[key]
	ch.following[key] = true
	ch.mu.Unlock()
	if started {
		return
	}
	// Messages unread now were announced in the call's own result.
	newest := int64(0)
	if in, err := ch.svc.Peek(ctx, c); err == nil && len(in.Messages) > 0 {
		newest = in.Messages[len(in.Messages)-1].ID
	}
	go ch.push(context.WithoutCancel(ctx), c, newest, key)
}

func (ch *channels) push(ctx context.Context, c bridge.Caller, newest int64, key string) {
	defer func() {
		ch.mu.Lock()
		delete(ch.following, key)
		ch.mu.Unlock()
	}()
	topics := bridge.InboxTopics(c.ConversationID, c.Session)
	for {
		changed, stop := ch.svc.WatchTopics(topics...)
		in, err := ch.svc.Peek(ctx, c)
		if err != nil {
			stop()
			return // expired, removed, or a store failure: the next call follows again
		}
		for _, m := range in.Messages {
			if m.ID <= newest {
				continue
			}
			newest = m.ID
			one := in
			one.Messages = []bridge.Message{m}
			content := inboxText(one, bridge.CheckInput{Peek: true}) +
				"\n\nCall check_messages (conversation " + c.ConversationID + ") to acknowledge it; until then it stays unread."
			from := string(m.From)
			if m.System {
				from = "bridge"
			}
			err := ch.srv.SendNotificationToSpecificClient(stdioSession, ChannelMethod, map[string]any{
				"content": content,
				"meta": map[string]string{
					"conversation_id": c.ConversationID, "from": from, "message_id": strconv.FormatInt(m.ID, 10),
					"action_type": m.ActionType, "to": string(c.Session),
				},
			})
			if err != nil {
				stop()
				return // the client went away
			}
		}
		<-changed
		stop()
	}
}
