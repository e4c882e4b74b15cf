package console

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// page is what every template gets.
type page struct {
	Title  string
	Nav    string // overview, consent, audit
	View   string // the live part's template: overview, conversation, consent, audit
	ID     string // the conversation of a conversation page
	CSRF   string
	Now    time.Time
	Notice string // what the last action did
	Error  string // why it did not

	Team     []bridge.TeamConversation
	Conv     *bridge.TeamConversation
	Messages []bridge.Message
	Earlier  int // older messages not shown in the timeline
	Search   *searchResult
	Consent  []consentItem
	Audit    []bridge.AuditEntry
	Verify   *bridge.AuditReport
	Pending  int // consent requests waiting, for the navigation
}

type searchResult struct {
	Query    string
	Messages []bridge.Message
}

type consentItem struct {
	bridge.ApprovalView
	Code   string
	Phrase string
	Role   string
}

// MaxTimeline is how many of a conversation's latest messages its page
// shows.
const MaxTimeline = 200

// build fills p's live part for view; it reads the service only.
func (c *Console) build(ctx context.Context, p *page, s *session) error {
	p.Now = c.cfg.Now()
	p.CSRF = s.csrf
	switch p.View {
	case "overview":
		team, err := c.svc.Team(ctx, c.cfg.SilentAfter)
		if err != nil {
			return err
		}
		p.Team = team
	case "conversation":
		conv, msgs, err := c.svc.TeamConversation(ctx, p.ID, c.cfg.SilentAfter)
		if err != nil {
			return err
		}
		p.Conv, p.Messages = &conv, msgs
		if p.Search != nil {
			p.Search.Messages = find(msgs, p.Search.Query)
		}
		if n := len(msgs) - MaxTimeline; n > 0 {
			// The page and every event re-render the timeline: keep
			// it bounded. Search looks through every message.
			p.Earlier, p.Messages = n, msgs[n:]
		}
		p.Title = conv.Conversation.ID
	case "consent":
		views, err := c.svc.Approvals(ctx, bridge.ApprovalPending)
		if err != nil {
			return err
		}
		live := map[string]bool{}
		for _, v := range views {
			live[v.ID] = true
			p.Consent = append(p.Consent, consentItem{ApprovalView: v, Code: c.consentCode(s, v.ID),
				Phrase: bridge.ConsentPhrase(v.Approval), Role: v.Conversation.Role(v.Session)})
		}
		c.forgetCodes(s, live)
	case "audit":
		rows, err := c.svc.Audit(ctx, bridge.AuditFilter{Limit: 200})
		if err != nil {
			return err
		}
		// Newest first: people read the trail from the top.
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
		p.Audit = rows
	}
	pending, err := c.svc.Approvals(ctx, bridge.ApprovalPending)
	if err != nil {
		return err
	}
	p.Pending = len(pending)
	return nil
}

// forgetCodes drops the codes of requests no longer pending.
func (c *Console) forgetCodes(s *session, live map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range s.codes {
		if !live[id] {
			delete(s.codes, id)
		}
	}
}

// render writes a whole page: the frame around its live part.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, p *page) {
	if p.Notice == "" && p.Error == "" && r.Method == http.MethodGet {
		p.Notice, p.Error = c.popFlash(s)
	}
	if err := c.build(r.Context(), p, s); err != nil {
		c.fail(w, err)
		return
	}
	var buf bytes.Buffer
	if err := c.tmpl.ExecuteTemplate(&buf, "page", p); err != nil {
		c.cfg.Log.Error("render", "view", p.View, "err", err)
		c.plain(w, http.StatusInternalServerError, "internal error while rendering the page; see the console's log.")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// live renders only the part of a page that events replace.
func (c *Console) live(ctx context.Context, s *session, p *page) ([]byte, error) {
	if err := c.build(ctx, p, s); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err := c.tmpl.ExecuteTemplate(&buf, "live", p)
	return buf.Bytes(), err
}

func (c *Console) fail(w http.ResponseWriter, err error) {
	switch bridge.KindOf(err) {
	case bridge.ENotFound:
		c.plain(w, http.StatusNotFound, bridge.MessageOf(err))
	case bridge.EInvalid:
		c.plain(w, http.StatusBadRequest, bridge.MessageOf(err))
	default:
		c.cfg.Log.Error("console", "err", err)
		c.plain(w, http.StatusInternalServerError, "internal error; see the console's log.")
	}
}

func (c *Console) overviewPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, s, &page{Title: "Conversations", Nav: "overview", View: "overview"})
}

func (c *Console) conversationPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, s, &page{Nav: "overview", View: "conversation", ID: r.PathValue("id")})
}

// search is a POST so the words searched for never appear in a URL.
func (c *Console) search(w http.ResponseWriter, r *http.Request, s *session) {
	q := strings.TrimSpace(r.PostForm.Get("q"))
	c.render(w, r, s, &page{Nav: "overview", View: "conversation", ID: r.PathValue("id"), Search: &searchResult{Query: q}})
}

// find returns the messages whose text or files contain q, ignoring case.
func find(msgs []bridge.Message, q string) []bridge.Message {
	var out []bridge.Message
	if q == "" {
		return nil
	}
	lq := strings.ToLower(q)
	for _, m := range msgs {
		if strings.Contains(strings.ToLower(m.Body), lq) || strings.Contains(strings.ToLower(strings.Join(m.Files, "\n")), lq) {
			out = append(out, m)
		}
	}
	return out
}

func (c *Console) notice(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	to := r.PostForm["to"]
	if len(to) == 1 && to[0] == "both" {
		to = []string{"a", "b"}
	}
	msgs, err := c.svc.PostNotice(r.Context(), id, to, r.PostForm.Get("text"), c.cfg.Who)
	switch kind := bridge.KindOf(err); {
	case err == nil:
		c.redirect(w, r, s, "/c/"+id, "Notice delivered to "+recipients(msgs)+".", "")
	case kind == bridge.ENotFound || kind == bridge.EInternal:
		c.fail(w, err)
	default:
		c.redirect(w, r, s, "/c/"+id, "", bridge.MessageOf(err))
	}
}

func recipients(msgs []bridge.Message) string {
	var names []string
	for _, m := range msgs {
		names = append(names, "member "+string(m.Recipient()))
	}
	return strings.Join(names, " and ")
}

func (c *Console) consentPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, s, &page{Title: "Consent queue", Nav: "consent", View: "consent"})
}

// decide approves a request when the typed phrase and this session's
// one-time code match, as the terminal's approve does: an empty phrase
// decides nothing, anything else wrong denies.
func (c *Console) decide(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	p := &page{}
	v, err := c.svc.Approval(r.Context(), id)
	if err != nil {
		c.fail(w, err)
		return
	}
	who := c.cfg.Who + " (web console)"
	switch {
	case v.StateNow != bridge.ApprovalPending:
		p.Error = id + " is " + v.StateNow + ", not waiting for a decision."
	case r.PostForm.Get("action") == "deny":
		c.takeCode(s, id)
		if _, err := c.svc.DecideThrough(r.Context(), consentTool, bridge.ConsoleConsentChannel, id, false, who, "denied in the web console"); err != nil {
			p.Error = bridge.MessageOf(err)
		} else {
			p.Notice = "Denied " + id + ". The agent is told its request was refused."
		}
	case strings.TrimSpace(r.PostForm.Get("phrase")) == "":
		p.Notice = "Nothing decided; " + id + " is still pending."
	default:
		code := c.takeCode(s, id)
		if code == "" {
			p.Error = "No code was shown for " + id + " in this session; nothing decided. Read the new code below and try again."
			break
		}
		phrase := bridge.ConsentPhrase(v.Approval)
		if cerr := bridge.CheckConsent(phrase, code, r.PostForm.Get("phrase"), r.PostForm.Get("code")); cerr != nil {
			if _, err := c.svc.DecideThrough(r.Context(), consentTool, bridge.ConsoleConsentChannel, id, false, who, cerr.Error()+" in the web console"); err != nil {
				p.Error = bridge.MessageOf(err)
			} else {
				p.Error = "Denied " + id + ": " + cerr.Error() + ". The agent is told its request was refused."
			}
			break
		}
		a, err := c.svc.DecideThrough(r.Context(), consentTool, bridge.ConsoleConsentChannel, id, true, who, "")
		if err != nil {
			p.Error = bridge.MessageOf(err)
			break
		}
		if a.Kind == bridge.KindCommand {
			p.Notice = "Approved " + a.ID + ": the command runs once, if the agent's call comes within " + bridge.Human(a.ExpiresAt.Sub(a.DecidedAt)) + "."
		} else {
			p.Notice = "Approved " + a.ID + ": " + a.Mode + " mode starts if the agent uses its approval token within " + bridge.Human(a.ExpiresAt.Sub(a.DecidedAt)) + ". End it any time with agent-bridge approve --revoke " + a.ID + "."
		}
	}
	c.redirect(w, r, s, "/consent", p.Notice, p.Error)
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, s, &page{Title: "Audit trail", Nav: "audit", View: "audit"})
}

func (c *Console) verify(w http.ResponseWriter, r *http.Request, s *session) {
	p := &page{Title: "Audit trail", Nav: "audit", View: "audit"}
	rep, err := c.svc.VerifyAudit(r.Context(), strings.TrimSpace(r.PostForm.Get("expect_head")))
	if err != nil {
		if bridge.KindOf(err) != bridge.EInvalid {
			c.fail(w, err)
			return
		}
		p.Error = bridge.MessageOf(err)
	} else {
		// The head shown is a row sealing what was seen (see SealHead).
		if err := c.svc.SealHead(r.Context(), &rep); err != nil {
			c.fail(w, err)
			return
		}
		p.Verify = &rep
	}
	c.render(w, r, s, p)
}

// consentTool names a decision made on the console in the audit trail.
const consentTool = "console:approve"
