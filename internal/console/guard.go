package console

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// maxForm bounds a form body: a notice is at most 50,000 characters.
const maxForm = 1 << 20

func (c *Console) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", staticFiles())
	mux.HandleFunc("GET /login", c.login)
	mux.HandleFunc("GET /{$}", c.authed(c.overviewPage))
	mux.HandleFunc("GET /c/{id}", c.authed(c.conversationPage))
	mux.HandleFunc("POST /c/{id}/search", c.posted(c.search))
	mux.HandleFunc("POST /c/{id}/notice", c.posted(c.notice))
	mux.HandleFunc("GET /consent", c.authed(c.consentPage))
	mux.HandleFunc("POST /consent/{id}", c.posted(c.decide))
	mux.HandleFunc("GET /audit", c.authed(c.auditPage))
	mux.HandleFunc("POST /audit/verify", c.posted(c.verify))
	mux.HandleFunc("GET /events", c.authed(c.events))
	mux.HandleFunc("POST /logout", c.posted(func(w http.ResponseWriter, r *http.Request, _ *session) {
		c.endSession(r)
		http.SetCookie(w, &http.Cookie{Name: c.cookieName(r), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: c.cfg.TLS, SameSite: http.SameSiteStrictMode})
		c.plain(w, http.StatusOK, "Logged out. Start agent-bridge console again for a new login link.")
	}))
	if c.cfg.Metrics != nil {
		mux.Handle("GET /metrics", c.cfg.Metrics)
	}
	return c.guard(mux)
}

// guard checks every request's Host and Origin and sets the headers every
// answer carries.
func (c *Console) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		// same-origin, not no-referrer: with no-referrer browsers send
		// "Origin: null" on form posts, and the origin check needs the real one.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		if !c.hostAllowed(r) {
			c.cfg.Log.Warn("refused a request for a foreign host name", "remote", r.RemoteAddr)
			c.plain(w, http.StatusForbidden, "Forbidden: this console answers only to the host names it serves (on a loopback listener: localhost, 127.0.0.1 or [::1]).")
			return
		}
		if !c.originAllowed(r) {
			c.cfg.Log.Warn("refused a cross-origin request", "remote", r.RemoteAddr)
			c.plain(w, http.StatusForbidden, "Forbidden: requests from other sites may not reach this console.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed: on a loopback listener only loopback names; beyond it the
// configured host names or the listener's own address.
func (c *Console) hostAllowed(r *http.Request) bool {
	host := r.Host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "" {
		return false
	}
	if loopbackName(host) {
		return true
	}
	if c.loopbackListener(r) {
		return false // DNS rebinding: a foreign name pointing at 127.0.0.1
	}
	for _, h := range c.cfg.Hosts {
		if h == host {
			return true
		}
	}
	if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if lh, _, err := net.SplitHostPort(local.String()); err == nil && strings.EqualFold(strings.Trim(lh, "[]"), host) {
			return true
		}
	}
	return false
}

func (c *Console) loopbackListener(r *http.Request) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	return !ok || local == nil || loopbackName(local.String())
}

// originAllowed: a request with an Origin must come from this console's
// own origin; a state-changing one without Origin must not be marked
// cross-site by the browser (Sec-Fetch-Site).
func (c *Console) originAllowed(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || u.Path != "" && u.Path != "/" {
			return false // "null" and other opaque origins
		}
		scheme := "http"
		if c.cfg.TLS {
			scheme = "https"
		}
		return strings.EqualFold(u.Scheme, scheme) && strings.EqualFold(u.Host, r.Host)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		switch r.Header.Get("Sec-Fetch-Site") {
		case "", "same-origin", "none":
		default:
			return false
		}
	}
	return true
}

// loopbackName reports whether addr (a host or host:port) is localhost or
// a loopback address.
func loopbackName(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// Loopback reports whether a listen address stays on this machine.
func Loopback(addr string) bool { return loopbackName(addr) }

// authed lets a request with a session through.
func (c *Console) authed(fn func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := c.session(r)
		if s == nil {
			c.plain(w, http.StatusUnauthorized, "Not logged in. Open the login link that agent-bridge console printed when it started (it works once); if it was used already, start the console again.")
			return
		}
		fn(w, r, s)
	}
}

// posted lets a state-changing request through with a session and its
// CSRF token.
func (c *Console) posted(fn func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request, s *session) {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(30 * time.Second))
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			c.plain(w, http.StatusBadRequest, "The form could not be read (it may be too large: a notice is at most 50,000 characters).")
			return
		}
		tok := r.PostForm.Get("csrf")
		if len(tok) != len(s.csrf) || subtle.ConstantTimeCompare([]byte(tok), []byte(s.csrf)) != 1 {
			c.plain(w, http.StatusForbidden, "Forbidden: the form's security token is missing or wrong. Reload the page and try again.")
			return
		}
		fn(w, r, s)
	})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	secret := r.URL.Query().Get("secret")
	cookie, ok := c.redeem(secret)
	if !ok {
		c.cfg.Log.Warn("refused a login link that is unknown or used already", "remote", r.RemoteAddr)
		c.plain(w, http.StatusForbidden, "This login link is not valid or was used already: each works once. Start agent-bridge console again for a new one.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: c.cookieName(r), Value: cookie, Path: "/", HttpOnly: true, Secure: c.cfg.TLS,
		SameSite: http.SameSiteStrictMode, MaxAge: int(c.cfg.SessionTTL.Seconds())})
	c.cfg.Log.Info("console login", "remote", r.RemoteAddr)
	// The secret leaves the address bar: the browser shows the clean URL.
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (c *Console) plain(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg + "\n"))
}
