package mcpserver

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"time"
)

// SessionLifetime is how long an HTTP session id stays valid. A client
// whose id has expired is answered 404 and, as the protocol requires,
// starts a new session.
const SessionLifetime = 30 * 24 * time.Hour

// sessionIDs mints and checks MCP session ids for the HTTP front.
//
// An id is "ab1." + base64url(issue time, 16 random bytes) + "." + a MAC of
// that under a key every node sharing the store derives from the bridge's
// key. Any node accepts the ids any node minted, so a client can move
// between nodes, but a well-formed id nobody minted is refused (404), and
// an id ended by DELETE stays refused on the node that ended it.
type sessionIDs struct {
	key []byte
	now func() time.Time

	mu    sync.Mutex
	ended map[string]time.Time // id -> when it would have expired
	prune int                  // prune expired entries when ended reaches this size
}

const sessionPrefix = "ab1."

var errSessionID = errors.New("unknown session id: start a new session with initialize")

func newSessionIDs(key []byte) *sessionIDs {
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key) // ids valid on this node only
	}
	return &sessionIDs{key: key, now: time.Now, ended: map[string]time.Time{}, prune: 1024}
}

func (s *sessionIDs) mac(body string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
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

// Validate refuses ids not minted under the key, expired ids, and ids
// ended by Terminate.
func (s *sessionIDs) Validate(id string) (terminated bool, err error) {
	at, err := s.issued(id)
	if err != nil {
		return false, err
	}
	now := s.now()
	if now.Sub(at) > SessionLifetime {
		return true, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ended := s.ended[id]
	return ended, nil
}

// Terminate ends a session (DELETE /mcp). Ended ids are forgotten once
// they would have expired anyway, so the set holds at most the ids ended
// within one lifetime; pruning runs when the set has doubled, so its cost
// is constant per call on average.
func (s *sessionIDs) Terminate(id string) (notAllowed bool, err error) {
	at, err := s.issued(id)
	if err != nil {
		return false, err
	}
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
	s.ended[id] = at.Add(SessionLifetime)
	return false, nil
}
