package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// inboxes offers each session's unread messages as an MCP resource,
// agent-bridge://conversations/{id}/inbox/{session}, with
// notifications/resources/updated when a message arrives, for clients that
// subscribe. A resource read carries no token, so a connection can read an
// inbox only after one of its tool calls authenticated that session; the
// token stays in this process's memory, never on disk.
type inboxes struct {
	svc *bridge.Service
	srv *server.MCPServer

	mu       sync.Mutex
	known    map[string]bridge.Caller // uri -> the caller that authenticated it
	subs     map[string]int64         // subscribed uri -> newest unread id notified
	watching bool
}

const inboxTemplate = "agent-bridge://conversations/{conversation_id}/inbox/{session_id}"

func inboxURI(conv string, s bridge.Session) string {
	return "agent-bridge://conversations/" + conv + "/inbox/" + string(s)
}

func (ib *inboxes) register(s *server.MCPServer) {
	ib.srv = s
	s.AddResourceTemplate(mcp.NewResourceTemplate(inboxTemplate, "Session inbox",
		mcp.WithTemplateDescription("Unread messages for one session of a conversation, oldest first, as JSON; reading does not mark them read. Readable after a tool call of that session in this connection."),
		mcp.WithTemplateMIMEType("application/json"),
	), ib.read)
}

// learn records a session that a tool call just authenticated.
func (ib *inboxes) learn(c bridge.Caller) {
	uri := inboxURI(c.ConversationID, c.Session)
	ib.mu.Lock()
	_, seen := ib.known[uri]
	ib.known[uri] = c
	ib.mu.Unlock()
	if !seen {
		ib.srv.AddResource(mcp.NewResource(uri, fmt.Sprintf("Inbox of session %s in %s", c.Session, c.ConversationID),
			mcp.WithResourceDescription("Unread partner messages for this session, as JSON; reading does not mark them read."),
			mcp.WithMIMEType("application/json"),
		), ib.read)
	}
}

func (ib *inboxes) caller(uri string) (bridge.Caller, bool) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	c, ok := ib.known[uri]
	return c, ok
}

func (ib *inboxes) read(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
	uri := req.Params.URI
	c, ok := ib.caller(uri)
	if !ok {
		return nil, fmt.Errorf("%s: call a tool (for example check_messages) for that session in this connection first; a resource read carries no token", uri)
	}
	in, err := ib.svc.Peek(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", uri, bridge.MessageOf(err))
	}
	msgs := make([]map[string]any, len(in.Messages))
	for i, m := range in.Messages {
		msgs[i] = map[string]any{
			"id": m.ID, "from": string(m.From), "action_type": m.ActionType, "message": m.Body,
			"files_involved": m.Files, "created_at": bridge.FormatTime(m.CreatedAt),
		}
	}
	body, err := json.Marshal(map[string]any{"conversation_id": c.ConversationID, "session_id": string(c.Session), "unread_messages": msgs})
	if err != nil {
		return nil, err
	}
	return []mcp.ResourceContents{mcp.TextResourceContents{URI: uri, MIMEType: "application/json", Text: string(body)}}, nil
}

// subscribe and unsubscribe track resources/subscribe for inbox URIs.
func (ib *inboxes) subscribe(ctx context.Context, id any, req *mcp.SubscribeRequest, _ *mcp.EmptyResult) {
	uri := req.Params.URI
	c, ok := ib.caller(uri)
	if !ok {
		return
	}
	newest := int64(0)
	if in, err := ib.svc.Peek(ctx, c); err == nil && len(in.Messages) > 0 {
		newest = in.Messages[len(in.Messages)-1].ID
	}
	ib.mu.Lock()
	ib.subs[uri] = newest
	start := !ib.watching
	ib.watching = true
	ib.mu.Unlock()
	if start {
		go ib.watch()
	}
}

func (ib *inboxes) unsubscribe(_ context.Context, _ any, req *mcp.UnsubscribeRequest, _ *mcp.EmptyResult) {
	ib.mu.Lock()
	delete(ib.subs, req.Params.URI)
	ib.mu.Unlock()
}

// watch sends notifications/resources/updated when a subscribed inbox gets
// a new message, until no subscription is left.
func (ib *inboxes) watch() {
	for {
		changed := ib.svc.Changed()
		ib.mu.Lock()
		if len(ib.subs) == 0 {
			ib.watching = false
			ib.mu.Unlock()
			return
		}
		subs := make(map[string]int64, len(ib.subs))
		for uri, newest := range ib.subs {
			subs[uri] = newest
		}
		ib.mu.Unlock()
		for uri, newest := range subs {
			c, _ := ib.caller(uri)
			in, err := ib.svc.Peek(context.Background(), c)
			if err != nil {
				if bridge.KindOf(err) != bridge.EInternal {
					ib.unsubscribe(nil, nil, &mcp.UnsubscribeRequest{Params: mcp.UnsubscribeParams{URI: uri}}, nil)
				}
				continue
			}
			if len(in.Messages) == 0 || in.Messages[len(in.Messages)-1].ID <= newest {
				continue
			}
			ib.mu.Lock()
			if _, still := ib.subs[uri]; still {
				ib.subs[uri] = in.Messages[len(in.Messages)-1].ID
			}
			ib.mu.Unlock()
			ib.srv.SendNotificationToAllClients("notifications/resources/updated", map[string]any{"uri": uri})
		}
		<-changed
	}
}
