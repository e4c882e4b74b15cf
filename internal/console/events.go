package console

import (
	"bytes"
	"net/http"
	"slices"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// events streams a page's live part as Server-Sent Events: once at once,
// then after every commit that raised a topic of what the page shows (see
// pageTopics; nothing polls, and other traffic does not wake the stream),
// and every Refresh so relative times stay right. Each event's data is the
// part's HTML, which the page's script puts in place.
func (c *Console) events(w http.ResponseWriter, r *http.Request, s *session) {
	p := page{View: r.URL.Query().Get("view"), ID: r.URL.Query().Get("id")}
	switch p.View {
	case "overview", "consent", "audit":
		p.ID = ""
	case "conversation":
		if !bridge.ValidConversationID(p.ID) {
			c.plain(w, http.StatusBadRequest, "id must be a conversation id (conv_ followed by 16 hex digits).")
			return
		}
	default:
		c.plain(w, http.StatusBadRequest, "view must be overview, conversation, consent or audit.")
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ctx := r.Context()
	var last []byte
	refresh := time.NewTicker(c.cfg.Refresh)
	defer refresh.Stop()
	topics := pageTopics(&p)
	stop := func() {}
	defer func() { stop() }()
	for {
		// Before reading, so no commit is missed.
		changed, stopNext := c.svc.WatchTopics(topics...)
		stop()
		stop = stopNext
		q := p
		html, err := c.live(ctx, s, &q)
		if err == nil {
			if want := pageTopics(&q); !slices.Equal(want, topics) {
				topics = want // the page shows other conversations now: watch them, read again
				continue
			}
		}
		if err != nil {
			if ctx.Err() == nil && !bridge.IsNotFound(err) {
				c.cfg.Log.Error("event stream", "view", p.View, "err", err)
			}
			_, _ = w.Write([]byte("event: gone\ndata: \n\n"))
			_ = rc.Flush()
			return
		}
		if !bytes.Equal(html, last) {
			last = html
			if _, err := w.Write(event("update", html)); err != nil {
				return
			}
		} else if _, err := w.Write([]byte(": idle\n\n")); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-refresh.C:
		}
		if c.session(r) == nil {
			return // logged out or expired
		}
	}
}

// pageTopics are the topics whose writes can change what p shows. Every
// page shows the number of pending approvals. The overview shows every live
// conversation: it watches the conversations topic (one created, imported
// or removed) and each shown conversation's own topic, so traffic in them
// wakes it and nothing else does. A conversation page watches its own
// conversation and the conversations topic (cleanup removing it).
func pageTopics(p *page) []string {
	out := []string{bridge.ApprovalsTopic}
	switch p.View {
	case "overview":
		out = append(out, bridge.ConversationsTopic)
		for _, tc := range p.Team {
			out = append(out, bridge.ConversationTopic(tc.Conversation.ID))
		}
	case "conversation":
		out = append(out, bridge.ConversationsTopic, bridge.ConversationTopic(p.ID))
	case "audit":
		out = append(out, bridge.AuditTopic)
	}
	slices.Sort(out)
	return out
}

// event frames data as one SSE event: each line of data on its own data:
// field, so a line break in the HTML cannot end the event early.
func event(name string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("event: ")
	b.WriteString(name)
	b.WriteByte('\n')
	// A carriage return would end a line too: as a character reference it
	// means the same to the HTML parser.
	data = bytes.ReplaceAll(data, []byte("\r"), []byte("&#13;"))
	for _, line := range bytes.Split(data, []byte("\n")) {
		b.WriteString("data: ")
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}
