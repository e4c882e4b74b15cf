package console_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/console"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/store/storetest"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

type harness struct {
	t   testing.TB
	spy *storetest.Spy // the store, reporting what event streams watch
	svc *bridge.Service
	c   *console.Console
	srv *httptest.Server
	ws  string // a workspace for YOLO requests
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "bridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var key token.Key
	copy(key[:], "0123456789abcdef0123456789abcdef")
	cfg := bridge.DefaultConfig()
	cfg.SessionLimits, cfg.CreateLimits, cfg.CreatorLimits = nil, nil, nil
	cfg.Yolo.Enabled = true
	cfg.Yolo.Workspace = dir
	spy := storetest.NewSpy(db)
	svc := bridge.NewService(spy, key, nil, cfg, nil)
	c, err := console.New(svc, console.Config{Who: "console user test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	return &harness{t: t, spy: spy, svc: svc, c: c, srv: srv, ws: dir}
}

// browser returns a client with a cookie jar that does not follow
// redirects, so tests see them.
func (h *harness) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login spends a fresh login secret with cl and returns the redirect.
func (h *harness) login(cl *http.Client) *http.Response {
	h.t.Helper()
	res, err := cl.Get(h.srv.URL + console.LoginPath(h.c.NewLogin()))
	if err != nil {
		h.t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// do sends a request with extra headers ("Host" sets the request's host).
func (h *harness) do(cl *http.Client, req *http.Request, header map[string]string) *http.Response {
	h.t.Helper()
	for k, v := range header {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := cl.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

func (h *harness) get(cl *http.Client, path string, header map[string]string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.srv.URL+path, nil)
	res := h.do(cl, req, header)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (h *harness) post(cl *http.Client, path string, form url.Values, header map[string]string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res := h.do(cl, req, header)
	defer res.Body.Close()
	if res.StatusCode == http.StatusSeeOther {
		// A state change redirects (so a reload does not repeat it);
		// the page it names says what happened, once.
		return h.get(cl, res.Header.Get("Location"), nil)
	}
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

func (h *harness) csrf(cl *http.Client) string {
	h.t.Helper()
	code, body := h.get(cl, "/", nil)
	m := csrfRe.FindStringSubmatch(body)
	if code != 200 || m == nil {
		h.t.Fatalf("no CSRF token on the overview (status %d)", code)
	}
	return m[1]
}

func (h *harness) conversation() bridge.Created {
	h.t.Helper()
	cr, err := h.svc.CreateConversation(context.Background(), "planner", "builder")
	if err != nil {
		h.t.Fatal(err)
	}
	return cr
}

func (h *harness) send(cr bridge.Created, from bridge.Session, text string) bridge.Message {
	h.t.Helper()
	tok := cr.TokenA
	if from == bridge.SessionB {
		tok = cr.TokenB
	}
	sent, err := h.svc.Send(context.Background(), bridge.Caller{ConversationID: cr.Conversation.ID, Session: from, Token: tok}, bridge.SendInput{Message: text, ActionType: "info"})
	if err != nil {
		h.t.Fatal(err)
	}
	return sent.Message
}

func TestLoginSetsAStrictCookieAndASecretWorksOnce(t *testing.T) {
	h := newHarness(t)
	secret := h.c.NewLogin()
	cl := h.browser()
	res, err := cl.Get(h.srv.URL + console.LoginPath(secret))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("login: %d to %q; want 303 to / (a clean URL)", res.StatusCode, res.Header.Get("Location"))
	}
	cookies := res.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || strings.Contains(cookies[0].Value, secret) {
		t.Fatalf("session cookie %+v: want one HttpOnly, SameSite=Strict cookie that is not the login secret", cookies)
	}
	if res.Header.Get("Referrer-Policy") != "same-origin" {
		t.Errorf("Referrer-Policy %q: the login URL must not leak to other sites as a referrer", res.Header.Get("Referrer-Policy"))
	}
	if code, _ := h.get(cl, "/", nil); code != 200 {
		t.Fatalf("overview after login: %d", code)
	}
	// The same link again, from another browser: refused, no cookie.
	other := h.browser()
	res, err = other.Get(h.srv.URL + console.LoginPath(secret))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden || len(res.Cookies()) != 0 {
		t.Fatalf("reused login secret: %d with %d cookies; want 403 and none", res.StatusCode, len(res.Cookies()))
	}
	if code, _ := h.get(other, "/", nil); code != http.StatusUnauthorized {
		t.Fatalf("overview with a reused secret's browser: %d; want 401", code)
	}
}

func TestAccessIsRefused(t *testing.T) {
	h := newHarness(t)
	cr := h.conversation()
	id := cr.Conversation.ID
	cl := h.browser()
	h.login(cl)
	tok := h.csrf(cl)
	anon := h.browser()
	host := strings.TrimPrefix(h.srv.URL, "http://")
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	cases := []struct {
		name   string
		do     func() (int, string)
		status int
	}{
		{"no cookie: overview", func() (int, string) { return h.get(anon, "/", nil) }, 401},
		{"no cookie: conversation", func() (int, string) { return h.get(anon, "/c/"+id, nil) }, 401},
		{"no cookie: events", func() (int, string) { return h.get(anon, "/events?view=overview", nil) }, 401},
		{"no cookie: consent", func() (int, string) { return h.get(anon, "/consent", nil) }, 401},
		{"no cookie: audit", func() (int, string) { return h.get(anon, "/audit", nil) }, 401},
		{"no cookie: notice", func() (int, string) {
			return h.post(anon, "/c/"+id+"/notice", form("csrf", tok, "to", "both", "text", "hello"), nil)
		}, 401},
		{"no CSRF token", func() (int, string) {
			return h.post(cl, "/c/"+id+"/notice", form("to", "both", "text", "hello"), nil)
		}, 403},
		{"wrong CSRF token", func() (int, string) {
			return h.post(cl, "/c/"+id+"/notice", form("csrf", strings.Repeat("0", 64), "to", "both", "text", "hello"), nil)
		}, 403},
		{"wrong CSRF token: verify", func() (int, string) {
			return h.post(cl, "/audit/verify", form("csrf", tok[:63]+"x"), nil)
		}, 403},
		{"foreign Origin: post", func() (int, string) {
			return h.post(cl, "/c/"+id+"/notice", form("csrf", tok, "to", "both", "text", "hello"), map[string]string{"Origin": "http://evil.example"})
		}, 403},
		{"foreign Origin: same host, other port", func() (int, string) {
			return h.post(cl, "/c/"+id+"/notice", form("csrf", tok, "to", "both", "text", "hello"), map[string]string{"Origin": "http://127.0.0.1:1"})
		}, 403},
		{"null Origin", func() (int, string) {
			return h.post(cl, "/audit/verify", form("csrf", tok), map[string]string{"Origin": "null"})
		}, 403},
		{"foreign Origin: get", func() (int, string) { return h.get(cl, "/", map[string]string{"Origin": "http://evil.example"}) }, 403},
		{"cross-site fetch without Origin", func() (int, string) {
			return h.post(cl, "/audit/verify", form("csrf", tok), map[string]string{"Sec-Fetch-Site": "cross-site"})
		}, 403},
		{"foreign Host (DNS rebinding)", func() (int, string) { return h.get(cl, "/", map[string]string{"Host": "evil.example"}) }, 403},
		{"foreign Host: login", func() (int, string) {
			return h.get(h.browser(), console.LoginPath(h.c.NewLogin()), map[string]string{"Host": "evil.example:80"})
		}, 403},
		{"foreign Host: metrics-free path", func() (int, string) {
			return h.get(anon, "/static/console.css", map[string]string{"Host": "evil.example"})
		}, 403},
		{"own Origin passes", func() (int, string) {
			return h.post(cl, "/audit/verify", form("csrf", tok), map[string]string{"Origin": "http://" + host})
		}, 200},
		{"localhost Host passes", func() (int, string) { return h.get(cl, "/", map[string]string{"Host": "localhost"}) }, 401}, // cookie is per host: none for localhost
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := c.do()
			if code != c.status {
				t.Fatalf("status %d, want %d: %s", code, c.status, body)
			}
		})
	}
	// Nothing refused reached the conversation.
	_, msgs, err := h.svc.TeamConversation(context.Background(), id, time.Minute)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("messages after refused posts: %v, %v", msgs, err)
	}
}

func TestPagesEscapeTextAndShowHiddenCharacters(t *testing.T) {
	h := newHarness(t)
	cr := h.conversation()
	h.send(cr, bridge.SessionA, "<script>alert(1)</script> look\u202eevil\u200b and key AKIAQYLPMN5HHHFPZAM2")
	cl := h.browser()
	h.login(cl)
	code, body := h.get(cl, "/c/"+cr.Conversation.ID, nil)
	if code != 200 {
		t.Fatalf("conversation page: %d", code)
	}
	for _, bad := range []string{"<script>alert", "\u202e", "\u200b", "AKIAQYLPMN5HHHFPZAM2"} {
		if strings.Contains(body, bad) {
			t.Errorf("the page carries %q raw", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;", "⟨RLO⟩", "⟨ZWSP⟩", "[REDACTED:", "planner", "builder"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if code, body := h.get(cl, "/", nil); code != 200 || !strings.Contains(body, cr.Conversation.ID) {
		t.Fatalf("overview: %d, lists the conversation: %v", code, strings.Contains(body, cr.Conversation.ID))
	}
}

func TestSearchIsPostedAndFindsMessages(t *testing.T) {
	h := newHarness(t)
	cr := h.conversation()
	h.send(cr, bridge.SessionA, "the build is green")
	h.send(cr, bridge.SessionB, "deploying now")
	cl := h.browser()
	h.login(cl)
	code, body := h.post(cl, "/c/"+cr.Conversation.ID+"/search", url.Values{"csrf": {h.csrf(cl)}, "q": {"GREEN"}}, nil)
	if code != 200 || !strings.Contains(body, "1 message match") {
		t.Fatalf("search: %d; want one match in:\n%s", code, body)
	}
}

func TestOperatorNoticeIsABridgeNoticeToTheChosenMembers(t *testing.T) {
	h := newHarness(t)
	cr := h.conversation()
	cl := h.browser()
	h.login(cl)
	code, body := h.post(cl, "/c/"+cr.Conversation.ID+"/notice", url.Values{"csrf": {h.csrf(cl)}, "to": {"b"}, "text": {"stop and commit; token ghp_Zx8vQ2mN4kL7pR9sT1uW3yA5bC6dE8fG0hJ2"}}, nil)
	if code != 200 || !strings.Contains(body, "Notice delivered to member b") {
		t.Fatalf("notice: %d\n%s", code, body)
	}
	if _, body := h.get(cl, "/c/"+cr.Conversation.ID, nil); strings.Contains(body, "Notice delivered") {
		t.Fatal("the outcome of the notice is shown again on a reload")
	}
	in, err := h.svc.CheckMessages(context.Background(), bridge.Caller{ConversationID: cr.Conversation.ID, Session: bridge.SessionB, Token: cr.TokenB}, bridge.CheckInput{})
	if err != nil || len(in.Messages) != 1 {
		t.Fatalf("b's inbox: %v, %v", in.Messages, err)
	}
	m := in.Messages[0]
	if !m.System || !strings.HasPrefix(m.Body, bridge.OperatorPrefix) || strings.Contains(m.Body, "ghp_Zx8v") {
		t.Fatalf("notice as delivered: system=%v body=%q; want a redacted bridge notice from the operator", m.System, m.Body)
	}
	if in, _ := h.svc.Peek(context.Background(), bridge.Caller{ConversationID: cr.Conversation.ID, Session: bridge.SessionA, Token: cr.TokenA}); len(in.Messages) != 0 {
		t.Fatalf("member a got the notice meant for b")
	}
	rows, _ := h.svc.Audit(context.Background(), bridge.AuditFilter{Limit: 5})
	found := false
	for _, r := range rows {
		found = found || r.Tool == "console:notice" && strings.Contains(r.Detail, "console user test")
	}
	if !found {
		t.Fatalf("no console:notice audit row naming the person: %+v", rows)
	}
}

func TestAuditVerifyShowsChainAndHead(t *testing.T) {
	h := newHarness(t)
	h.conversation()
	cl := h.browser()
	h.login(cl)
	code, body := h.post(cl, "/audit/verify", url.Values{"csrf": {h.csrf(cl)}}, nil)
	if code != 200 || !strings.Contains(body, "Chain intact.") {
		t.Fatalf("verify: %d\n%s", code, body)
	}
	// The head shown is the row that sealed what was verified: a later
	// verification against it passes.
	m := regexp.MustCompile(`id="head">(\d+:[0-9a-f]{64})<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the page shows no head:\n%s", body)
	}
	if rep, err := h.svc.VerifyAudit(context.Background(), m[1]); err != nil || !rep.OK() {
		t.Fatalf("verify against the head the page showed: %+v %v", rep.Problems, err)
	}
}

// pending asks for YOLO mode as member a and returns the request id.
func (h *harness) pending(cr bridge.Created) string {
	h.t.Helper()
	res, err := h.svc.EnableYolo(context.Background(), bridge.Caller{ConversationID: cr.Conversation.ID, Session: bridge.SessionA, Token: cr.TokenA},
		bridge.EnableInput{Mode: "safe", Workspace: h.ws})
	if err != nil && res.Approval.ID == "" {
		h.t.Fatal(err)
	}
	return res.Approval.ID
}

var codeRe = regexp.MustCompile(`class="code" id="code-(appr_[0-9a-f]{16})">(\d{3}-\d{3})<`)

func TestConsentNeedsPhraseAndThisPagesCode(t *testing.T) {
	h := newHarness(t)
	cr := h.conversation()
	id := h.pending(cr)
	cl := h.browser()
	h.login(cl)
	tok := h.csrf(cl)
	_, body := h.get(cl, "/consent", nil)
	m := codeRe.FindStringSubmatch(body)
	if m == nil || m[1] != id || !strings.Contains(body, "enable safe mode") || !strings.Contains(body, h.ws) {
		t.Fatalf("consent page does not show %s with its phrase, workspace and code:\n%s", id, body)
	}
	code := m[2]
	// An empty phrase decides nothing.
	_, body = h.post(cl, "/consent/"+id, url.Values{"csrf": {tok}, "action": {"approve"}, "code": {code}}, nil)
	if !strings.Contains(body, "still pending") {
		t.Fatalf("empty phrase: %s", body)
	}
	// Another browser's session never saw this code: it cannot use it.
	other := h.browser()
	h.login(other)
	_, body = h.post(other, "/consent/"+id, url.Values{"csrf": {h.csrf(other)}, "action": {"approve"}, "phrase": {"enable safe mode"}, "code": {code}}, nil)
	if !strings.Contains(body, "No code was shown") {
		t.Fatalf("code from another session: %s", body)
	}
	if v, _ := h.svc.Approval(context.Background(), id); v.StateNow != bridge.ApprovalPending {
		t.Fatalf("state %s after a foreign code; want pending", v.StateNow)
	}
	_, body = h.post(cl, "/consent/"+id, url.Values{"csrf": {tok}, "action": {"approve"}, "phrase": {"Enable  SAFE mode"}, "code": {strings.ReplaceAll(code, "-", "")}}, nil)
	if !strings.Contains(body, "Approved "+id) {
		t.Fatalf("approve: %s", body)
	}
	v, _ := h.svc.Approval(context.Background(), id)
	if v.StateNow != bridge.ApprovalApproved || !strings.Contains(v.DecidedBy, "web console") {
		t.Fatalf("after approval: %s by %q", v.StateNow, v.DecidedBy)
	}
	// The audit trail names the channel that consented: this console.
	rows, _ := h.svc.Audit(context.Background(), bridge.AuditFilter{Limit: 3})
	named := false
	for _, r := range rows {
		named = named || (r.Tool == "console:approve" && strings.Contains(r.Detail, bridge.ConsoleConsentChannel) && !strings.Contains(r.Detail, "/dev/tty"))
	}
	if !named {
		t.Fatalf("no audit row names the console as the consent channel: %+v", rows)
	}

	// A wrong code denies, like the terminal.
	id2 := h.pending(cr)
	_, body = h.get(cl, "/consent", nil)
	if m = codeRe.FindStringSubmatch(body); m == nil || m[1] != id2 {
		t.Fatalf("no code for %s", id2)
	}
	wrong := "000-000"
	if m[2] == wrong {
		wrong = "111-111"
	}
	h.post(cl, "/consent/"+id2, url.Values{"csrf": {tok}, "action": {"approve"}, "phrase": {"enable safe mode"}, "code": {wrong}}, nil)
	if v, _ := h.svc.Approval(context.Background(), id2); v.StateNow != bridge.ApprovalDenied {
		t.Fatalf("after a wrong code: %s; want denied", v.StateNow)
	}
}

func TestEventStreamSendsTheTimelineOnCommit(t *testing.T) {
	h := newHarness(t)
	cr := h.conversation()
	cl := h.browser()
	h.login(cl)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", h.srv.URL+"/events?view=conversation&id="+cr.Conversation.ID, nil)
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	events := readEvents(res.Body)
	if first := <-events; !strings.Contains(first, "No messages yet") {
		t.Fatalf("first event: %s", first)
	}
	m := h.send(cr, bridge.SessionA, "line one\nline two")
	select {
	case ev := <-events:
		if !strings.Contains(ev, `id="m`) || !strings.Contains(ev, "line one\nline two") {
			t.Fatalf("event after a send lacks message %d: %s", m.ID, ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s of a commit")
	}
}

// readEvents returns the data of each update event on r.
func readEvents(r io.Reader) <-chan string {
	out := make(chan string, 16)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		var data []string
		name := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if name == "update" {
					out <- strings.Join(data, "\n")
				}
				data, name = nil, ""
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return out
}

func TestTimelineIsBoundedAndSearchSeesEverything(t *testing.T) {
	h := newHarness(t)
	cr := h.conversation()
	for i := range console.MaxTimeline + 5 {
		h.send(cr, bridge.SessionA, fmt.Sprintf("note %03d", i))
	}
	cl := h.browser()
	h.login(cl)
	_, body := h.get(cl, "/c/"+cr.Conversation.ID, nil)
	if !strings.Contains(body, "5 earlier messages are not shown") || strings.Contains(body, "note 004") || !strings.Contains(body, "note 005") {
		t.Fatalf("the timeline is not the last %d messages", console.MaxTimeline)
	}
	_, body = h.post(cl, "/c/"+cr.Conversation.ID+"/search", url.Values{"csrf": {h.csrf(cl)}, "q": {"note 000"}}, nil)
	if !strings.Contains(body, "1 message match") || !strings.Contains(body, "note 000") {
		t.Fatal("search does not find a message older than the timeline")
	}
}

func TestConsentShowsTheCommandExactly(t *testing.T) {
	h := newHarness(t)
	cr := h.conversation()
	ctx := context.Background()
	a := bridge.Caller{ConversationID: cr.Conversation.ID, Session: bridge.SessionA, Token: cr.TokenA}
	res, _ := h.svc.EnableYolo(ctx, a, bridge.EnableInput{Mode: "yolo", Workspace: h.ws})
	if _, err := h.svc.Decide(ctx, res.Approval.ID, true, "test", ""); err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.EnableYolo(ctx, a, bridge.EnableInput{RequestID: res.Approval.ID})
	if err != nil || res.Token == "" {
		t.Fatalf("enable: %v", err)
	}
	command := "printf '%s\\n' \"a  b\" > out.txt\techo done"
	out, err := h.svc.ExecuteCommand(ctx, a, bridge.ExecInput{Command: command, ApprovalToken: res.Token})
	if err != nil || out.Approval.Kind != bridge.KindCommand || out.Approval.State != bridge.ApprovalPending {
		t.Fatalf("execute_command should wait for a person: %+v, %v", out.Approval, err)
	}
	cl := h.browser()
	h.login(cl)
	_, body := h.get(cl, "/consent", nil)
	for _, want := range []string{"run this command", `printf &#39;%s\n&#39; &#34;a  b&#34; &gt; out.txt<span class="ctl"`, "⟨TAB⟩", "invisible or control characters"} {
		if !strings.Contains(body, want) {
			t.Errorf("the consent page lacks %q", want)
		}
	}
}

// The overview and a conversation's page show each member's current task,
// its title escaped with hidden characters made visible.
func TestPagesShowEachMembersCurrentTask(t *testing.T) {
	h := newHarness(t)
	cr := h.conversation()
	a := bridge.Caller{ConversationID: cr.Conversation.ID, Session: bridge.SessionA, Token: cr.TokenA}
	if _, err := h.svc.CreateTask(context.Background(), a, bridge.NewTask{Title: "port <parser>\u202e now", Assignee: bridge.SessionB}); err != nil {
		t.Fatal(err)
	}
	cl := h.browser()
	h.login(cl)
	for _, path := range []string{"/", "/c/" + cr.Conversation.ID} {
		code, body := h.get(cl, path, nil)
		if code != 200 || !strings.Contains(body, "port &lt;parser&gt;") || !strings.Contains(body, "⟨RLO⟩") || strings.Contains(body, "\u202e") {
			t.Errorf("%s: %d, task shown: %v", path, code, strings.Contains(body, "port &lt;parser&gt;"))
		}
	}
}
