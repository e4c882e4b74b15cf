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
	// While a check_messages wait of this process waits for the member,
	// it takes what arrives: read the inbox again only for changes that no
	// take of such a wait read after.
	f := ch.svc.FollowInbox(c.ConversationID, c.Session)
	defer f.Close()
	topics := bridge.InboxTopics(c.ConversationID, c.Session)
	// Each watch is taken before the previous one is released, so no
	// change slips between.
	changed, stop := ch.svc.WatchTopics(topics...)
	defer func() { stop() }()
	rewatch := func() {
		next, stopNext := ch.svc.WatchTopics(topics...)
		stop()
		changed, stop = next, stopNext
	}
	for read := true; ; read = !f.Covered() {
		if read {
			var ok bool
			if newest, ok = ch.pushNew(ctx, c, newest); !ok {
				return // expired, removed, a store failure or the client gone: the next call follows again
			}
		}
		<-changed
		ended := f.Changed()
		rewatch()
		for ended != nil {
			select {
			case <-ended:
				ended = nil
			case <-changed:
				ended = f.Changed()
				rewatch()
			}
		}
	}
}

// pushNew sends the member's unread messages newer than newest as channel
// events; it returns the newest id sent, and false when following should
// stop.
func (ch *channels) pushNew(ctx context.Context, c bridge.Caller, newest int64) (int64, bool) {
	in, err := ch.svc.Peek(ctx, c)
	if err != nil {
		return newest, false
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
			return newest, false
		}
	}
	return newest, true
}
