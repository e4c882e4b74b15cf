// Package console is the web front for the person running the agents: an
// overview of every live conversation, each conversation's timeline, the
// consent queue for command execution and the audit trail, all updated
// live over Server-Sent Events. Like the CLI and the MCP server it calls
// the bridge service only, never a store.
//
// Access: a one-time login secret (printed by the command that starts the
// console) buys an HttpOnly, SameSite=Strict session cookie; every
// state-changing request needs the session's CSRF token; Host and Origin
// are checked on every request. No message text, token or secret is put
// in a URL or a log.
package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures a console. Zero values take the documented defaults.
type Config struct {
	// TLS says the console is served over HTTPS: cookies are then Secure
	// and origins https.
	TLS bool
	// Hosts are the host names (without port) a browser may use to reach a
	// console listening beyond loopback. On a loopback listener only
	// loopback names (localhost, 127.0.0.1, [::1]) are accepted, which
	// defeats DNS rebinding.
	Hosts []string
	// SilentAfter is how long a member may make no call before it is
	// shown as silent (default 5 minutes).
	SilentAfter time.Duration
	// Who names the person using the console in the audit trail (default
	// "console user").
	Who string
	// Metrics, when set, is served at /metrics (no session needed: it
	// carries no conversation id, member or text).
	Metrics http.Handler
	// SessionTTL bounds a login session (default 12 hours).
	SessionTTL time.Duration
	// Refresh is how often an open page is re-rendered without a change,
	// so relative times stay right (default 30 seconds).
	Refresh time.Duration
	Log     *slog.Logger
	Now     func() time.Time
}

// Console serves the web pages. It is safe for concurrent use.
type Console struct {
	svc     *bridge.Service
	cfg     Config
	tmpl    *template.Template
	handler http.Handler

	mu       sync.Mutex
	logins   map[[32]byte]bool     // unused login secrets, by digest
	sessions map[[32]byte]*session // by digest of the cookie value
}

// session is one logged-in browser.
type session struct {
	csrf    string
	expires time.Time
	// codes are the one-time consent codes shown on this session's
	// consent page, by approval id. They never leave the console process
	// except in that page.
	codes map[string]string
	// flash is what the last action did (or why it did not), shown once
	// on the page it redirected to.
	flash, flashErr string
}

// New returns a console over svc.
func New(svc *bridge.Service, cfg Config) (*Console, error) {
	if cfg.SilentAfter <= 0 {
		cfg.SilentAfter = 5 * time.Minute
	}
	if cfg.Who == "" {
		cfg.Who = "console user"
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for i, h := range cfg.Hosts {
		cfg.Hosts[i] = strings.ToLower(strings.Trim(h, "[]"))
	}
	t, err := template.New("").Funcs(funcs(cfg.Now)).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	c := &Console{svc: svc, cfg: cfg, tmpl: t, logins: map[[32]byte]bool{}, sessions: map[[32]byte]*session{}}
	c.handler = c.routes()
	return c, nil
}

// Handler returns the console as an http.Handler.
func (c *Console) Handler() http.Handler { return c.handler }

// NewLogin returns a fresh one-time login secret. Visiting
// /login?secret=SECRET once opens a session; the secret is then spent.
func (c *Console) NewLogin() string {
	s := randomHex(32)
	c.mu.Lock()
	c.logins[sha256.Sum256([]byte(s))] = true
	c.mu.Unlock()
	return s
}

// LoginPath is the path and query that spends a login secret.
func LoginPath(secret string) string { return "/login?secret=" + secret }

// redeem spends a login secret and opens a session; false when the secret
// is unknown or spent.
func (c *Console) redeem(secret string) (cookie string, ok bool) {
	d := sha256.Sum256([]byte(secret))
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.logins[d] {
		return "", false
	}
	delete(c.logins, d)
	cookie = randomHex(32)
	c.sessions[sha256.Sum256([]byte(cookie))] = &session{csrf: randomHex(32), expires: c.cfg.Now().Add(c.cfg.SessionTTL), codes: map[string]string{}}
	return cookie, true
}

// session returns the request's session, or nil.
func (c *Console) session(r *http.Request) *session {
	ck, err := r.Cookie(c.cookieName(r))
	if err != nil || ck.Value == "" {
		return nil
	}
	d := sha256.Sum256([]byte(ck.Value))
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[d]
	if s != nil && !c.cfg.Now().Before(s.expires) {
		delete(c.sessions, d)
		return nil
	}
	return s
}

func (c *Console) endSession(r *http.Request) {
	if ck, err := r.Cookie(c.cookieName(r)); err == nil {
		c.mu.Lock()
		delete(c.sessions, sha256.Sum256([]byte(ck.Value)))
		c.mu.Unlock()
	}
}

// cookieName carries the port: browsers share cookies between the ports of
// one host, and two consoles on one machine must not overwrite each
// other's sessions.
func (c *Console) cookieName(r *http.Request) string {
	_, port, err := net.SplitHostPort(r.Host)
	if err != nil || port == "" {
		port = "default"
	}
	return "agent_bridge_console_" + port
}

// consentCode returns the one-time code this session shows for approval
// id, making one when there is none.
func (c *Console) consentCode(s *session, id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if code, ok := s.codes[id]; ok {
		return code
	}
	code := newCode()
	s.codes[id] = code
	return code
}

// takeCode removes and returns the code shown for id ("" when none): a
// code is checked once, right or wrong.
func (c *Console) takeCode(s *session, id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	code := s.codes[id]
	delete(s.codes, id)
	return code
}

// redirect answers a state change with a redirect to path (so a reload
// does not repeat it), carrying what happened to the next page.
func (c *Console) redirect(w http.ResponseWriter, r *http.Request, s *session, path, notice, errText string) {
	c.mu.Lock()
	s.flash, s.flashErr = notice, errText
	c.mu.Unlock()
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// popFlash returns and clears what the last action left.
func (c *Console) popFlash(s *session) (notice, errText string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	notice, errText = s.flash, s.flashErr
	s.flash, s.flashErr = "", ""
	return notice, errText
}

// Serve accepts connections on ln until ctx is done, with TLS when cert and
// key files are given.
func (c *Console) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	srv := &http.Server{
		Handler: c.handler,
		// No ReadTimeout: it would also end event streams, which last as
		// long as a page is open; form bodies get their own deadline.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
		ErrorLog:          slog.NewLogLogger(c.cfg.Log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- srv.ServeTLS(ln, certFile, keyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Event streams end with ctx (their requests' base context); give
	// other requests a moment.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b)
}

// newCode returns six random digits shown as 123-456, like the terminal's.
func newCode() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	var n uint64
	for _, x := range b {
		n = n<<8 | uint64(x)
	}
	v := n % 1_000_000
	d := []byte("000000")
	for i := 5; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return string(d[:3]) + "-" + string(d[3:])
}

func staticFiles() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	return http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
}
