package mcpserver

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// SessionLifetime is how long an HTTP session id stays valid. A client
// whose id has expired is answered 404 and, as the protocol requires,
// starts a new session.
const SessionLifetime = 30 * 24 * time.Hour

// SessionEnds records the sessions ended by DELETE where every node sharing
// the store sees them (bridge.Service implements it). Sessions are named by
// a keyed digest of their id, never the id.
type SessionEnds interface {
	EndSession(ctx context.Context, digest string, expires time.Time) error
	SessionEnded(ctx context.Context, digest string) (bool, error)
}

// sessionIDs mints and checks MCP session ids for the HTTP front.
//
// An id is "ab1." + base64url(issue time, 16 random bytes) + "." + a MAC of
// that under a key every node sharing the store derives from the bridge's
// key. Any node accepts the ids any node minted, so a client can move
// between nodes, but a well-formed id nobody minted is refused (404). An
// id ended by DELETE is recorded in the store (as a digest under the same
// key) and refused by every node: each request with an id not known to be
// ended costs one indexed read, and each node caches the ids it has seen
// ended, which never become valid again.
type sessionIDs struct {
	key  []byte
	now  func() time.Time
	ends SessionEnds // nil: ends hold on this node only

	mu    sync.Mutex
	ended map[string]time.Time // digest -> when the id would have expired
	prune int                  // prune expired entries when ended reaches this size
}

const sessionPrefix = "ab1."

var errSessionID = errors.New("unknown session id: start a new session with initialize")

func newSessionIDs(key []byte, ends SessionEnds) *sessionIDs {
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key) // ids valid on this node only
	}
	return &sessionIDs{key: key, now: time.Now, ends: ends, ended: map[string]time.Time{}, prune: 1024}
}

func (s *sessionIDs) mac(body string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// digest names an id in the store: a MAC under the node key, so the
// store never holds an id, and no one without the key can tell which id a
// row names.
func (s *sessionIDs) digest(id string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("ended session\x00"))
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))
}

// Generate mints a new session id.
func (s *sessionIDs) Generate() string {
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(s.now().Unix()))
	rand.Read(b[8:])
	body := base64.RawURLEncoding.EncodeToString(b[:])
	return sessionPrefix + body + "." + s.mac(body)
}

// issued returns when a well-formed, authentic id was minted.
func (s *sessionIDs) issued(id string) (time.Time, error) {
	rest, ok := strings.CutPrefix(id, sessionPrefix)
	if !ok {
		return time.Time{}, errSessionID
	}
	body, sum, ok := strings.Cut(rest, ".")
	if !ok || !hmac.Equal([]byte(sum), []byte(s.mac(body))) {
		return time.Time{}, errSessionID
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) != 24 {
		return time.Time{}, errSessionID
	}
	return time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0), nil
}

// validate refuses ids not minted under the key, expired ids, and ids
// ended by DELETE on any node sharing the store.
func (s *sessionIDs) validate(ctx context.Context, id string) (terminated bool, err error) {
	at, err := s.issued(id)
	if err != nil {
		return false, err
	}
	if s.now().Sub(at) > SessionLifetime {
		return true, nil
	}
	d := s.digest(id)
	s.mu.Lock()
	_, ended := s.ended[d]
	s.mu.Unlock()
	if ended || s.ends == nil {
		return ended, nil
	}
	if ended, err = s.ends.SessionEnded(ctx, d); err != nil {
		return false, err // answered 404: a node that cannot read the store serves nothing anyway
	}
	if ended {
		s.remember(d, at.Add(SessionLifetime))
	}
	return ended, nil
}

// terminate ends a session: on this node at once, and, with shared, on
// every node sharing the store (DELETE /mcp). A node shutting down ends
// its sessions on itself only, so their clients move to another node.
func (s *sessionIDs) terminate(ctx context.Context, id string, shared bool) (notAllowed bool, err error) {
	at, err := s.issued(id)
	if err != nil {
		return false, err
	}
	d, expires := s.digest(id), at.Add(SessionLifetime)
	if shared && s.ends != nil {
		if err := s.ends.EndSession(ctx, d, expires); err != nil {
			return false, err
		}
	}
	s.remember(d, expires)
	return false, nil
}

// remember caches an ended id's digest until the id would have expired
// anyway, so the cache holds at most the ids ended within one lifetime;
// pruning runs when it has doubled, so its cost is constant per call on
// average.
func (s *sessionIDs) remember(digest string, expires time.Time) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ended) >= s.prune {
		for k, exp := range s.ended {
			if now.After(exp) {
				delete(s.ended, k)
			}
		}
		s.prune = max(1024, 2*len(s.ended))
	}
	s.ended[digest] = expires
}

// ResolveSessionIdManager gives each request a manager bound to its
// context; without a request (mcp-go ending sessions at shutdown or when
// idle) a manager whose ends hold on this node only.
func (s *sessionIDs) ResolveSessionIdManager(r *http.Request) server.SessionIdManager {
	if r == nil {
		return sessionManager{ids: s, ctx: context.Background()}
	}
	return sessionManager{ids: s, ctx: r.Context(), shared: true}
}

// sessionManager is mcp-go's view of sessionIDs for one request.
type sessionManager struct {
	ids    *sessionIDs
	ctx    context.Context
	shared bool
}

func (m sessionManager) Generate() string { return m.ids.Generate() }

func (m sessionManager) Validate(id string) (bool, error) { return m.ids.validate(m.ctx, id) }

func (m sessionManager) Terminate(id string) (bool, error) {
	return m.ids.terminate(m.ctx, id, m.shared)
}
