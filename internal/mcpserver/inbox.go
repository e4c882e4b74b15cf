package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
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
// inbox only after one of its own tool calls authenticated that session;
// the token stays in this process's memory, never on disk. Over HTTP one
// process serves many clients, so everything here is kept per client
// session (the MCP session id); a request without one (the sessionless
// protocol of 2026-07-28) cannot read inbox resources.
type inboxes struct {
	svc *bridge.Service
	srv *server.MCPServer

	mu       sync.Mutex
	known    map[string]bridge.Caller // client session + uri -> the caller that authenticated it
	subs     map[string]*inboxSub     // client session + uri -> subscription
	watching bool
	resubs   chan struct{} // closed when subs change, so watch re-reads its topics
}

// inboxSub is one client session's subscription to one inbox.
type inboxSub struct {
	session, uri string
	caller       bridge.Caller
	newest       int64 // newest unread id notified
}

const inboxTemplate = "agent-bridge://conversations/{conversation_id}/inbox/{session_id}"

func inboxURI(conv string, s bridge.Session) string {
	return "agent-bridge://conversations/" + conv + "/inbox/" + string(s)
}

// clientSession returns the MCP session id of the request in ctx, or "".
func clientSession(ctx context.Context) string {
	if cs := server.ClientSessionFromContext(ctx); cs != nil {
		return cs.SessionID()
	}
	return ""
}

func inboxKey(session, uri string) string { return session + "\x00" + uri }

func (ib *inboxes) register(s *server.MCPServer) {
	ib.srv = s
	s.AddResourceTemplate(mcp.NewResourceTemplate(inboxTemplate, "Session inbox",
		mcp.WithTemplateDescription("Unread messages for one member of a conversation (session_id is its member id), oldest first, as JSON; reading does not mark them read. Readable after a tool call of that member in this connection."),
		mcp.WithTemplateMIMEType("application/json"),
	), ib.read)
}

// learn records a session that a tool call of this client just
// authenticated, and lists its inbox for this client.
func (ib *inboxes) learn(ctx context.Context, c bridge.Caller) {
	sid := clientSession(ctx)
	if sid == "" {
		return
	}
	uri := inboxURI(c.ConversationID, c.Session)
	ib.mu.Lock()
	_, seen := ib.known[inboxKey(sid, uri)]
	ib.known[inboxKey(sid, uri)] = c
	ib.mu.Unlock()
	if seen {
		return
	}
	res := mcp.NewResource(uri, fmt.Sprintf("Inbox of session %s in %s", c.Session, c.ConversationID),
		mcp.WithResourceDescription("Unread messages for this member, as JSON; reading does not mark them read."),
		mcp.WithMIMEType("application/json"),
	)
	err := ib.srv.AddSessionResource(sid, res, ib.read)
	if errors.Is(err, server.ErrSessionDoesNotSupportResources) {
		// stdio: the process has one client, so the server's list is its.
		ib.srv.AddResource(res, ib.read)
	}
	// Otherwise (an HTTP client without a listening stream) the inbox is
	// readable by URI but not listed: a server-wide list would show one
	// client's conversations to every other.
}

func (ib *inboxes) caller(session, uri string) (bridge.Caller, bool) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	c, ok := ib.known[inboxKey(session, uri)]
	return c, ok
}

func (ib *inboxes) read(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
	uri := req.Params.URI
	c, ok := ib.caller(clientSession(ctx), uri)
	if !ok {
		return nil, fmt.Errorf("%s: call a tool (for example check_messages) for that session in this connection first; a resource read carries no token", uri)
	}
	in, err := ib.svc.Peek(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", uri, bridge.MessageOf(err))
	}
	msgs := make([]map[string]any, len(in.Messages))
	for i, m := range in.Messages {
		from, to := string(m.From), string(m.To)
		if m.System {
			from = "bridge"
		}
		if m.To == bridge.Broadcast {
			to = "all"
		}
		msgs[i] = map[string]any{
			"id": m.ID, "from": from, "role": m.Role, "to": to, "action_type": m.ActionType, "message": m.Body,
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
	sid, uri := clientSession(ctx), req.Params.URI
	c, ok := ib.caller(sid, uri)
	if !ok {
		return
	}
	newest := int64(0)
	if in, err := ib.svc.Peek(ctx, c); err == nil && len(in.Messages) > 0 {
		newest = in.Messages[len(in.Messages)-1].ID
	}
	ib.mu.Lock()
	ib.subs[inboxKey(sid, uri)] = &inboxSub{session: sid, uri: uri, caller: c, newest: newest}
	start := !ib.watching
	ib.watching = true
	ib.resubscribed()
	ib.mu.Unlock()
	if start {
		go ib.watch()
	}
}

func (ib *inboxes) unsubscribe(ctx context.Context, _ any, req *mcp.UnsubscribeRequest, _ *mcp.EmptyResult) {
	ib.drop(inboxKey(clientSession(ctx), req.Params.URI))
}

func (ib *inboxes) drop(k string) {
	ib.mu.Lock()
	if _, ok := ib.subs[k]; ok {
		delete(ib.subs, k)
		ib.resubscribed()
	}
	ib.mu.Unlock()
}

// resubscribed tells watch that the subscriptions changed; ib.mu is held.
func (ib *inboxes) resubscribed() {
	if ib.resubs != nil {
		close(ib.resubs)
	}
	ib.resubs = make(chan struct{})
}

// watch sends notifications/resources/updated to each subscribed client
// when its inbox gets a new message, until no subscription is left. It
// watches only the subscribed inboxes' topics: other traffic does not
// wake it.
func (ib *inboxes) watch() {
	stop := func() {}
	defer func() { stop() }()
	for {
		ib.mu.Lock()
		if len(ib.subs) == 0 {
			ib.watching = false
			ib.mu.Unlock()
			return
		}
		subs := make(map[string]inboxSub, len(ib.subs))
		seen := map[string]bool{}
		var topics []string
		for k, s := range ib.subs {
			subs[k] = *s
			for _, t := range bridge.InboxTopics(s.caller.ConversationID, s.caller.Session) {
				if !seen[t] {
					seen[t] = true
					topics = append(topics, t)
				}
			}
		}
		resubs := ib.resubs
		ib.mu.Unlock()
		// Before reading, so no message is missed.
		changed, stopNext := ib.svc.WatchTopics(topics...)
		stop()
		stop = stopNext
		for k, sub := range subs {
			in, err := ib.svc.Peek(context.Background(), sub.caller)
			if err != nil {
				if bridge.KindOf(err) != bridge.EInternal {
					ib.drop(k)
				}
				continue
			}
			if len(in.Messages) == 0 || in.Messages[len(in.Messages)-1].ID <= sub.newest {
				continue
			}
			ib.mu.Lock()
			if s, still := ib.subs[k]; still {
				s.newest = in.Messages[len(in.Messages)-1].ID
			}
			ib.mu.Unlock()
			err = ib.srv.SendNotificationToSpecificClient(sub.session, "notifications/resources/updated", map[string]any{"uri": sub.uri})
			if errors.Is(err, server.ErrSessionNotFound) {
				ib.drop(k) // the client went away
			}
		}
		select {
		case <-changed:
		case <-resubs:
		}
	}
}
