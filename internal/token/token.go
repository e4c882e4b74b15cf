// Package token derives and verifies session tokens.
//
// A token is HMAC-SHA256 over (conversation id, member id[, generation]) keyed by a
// server secret held in a key file. Tokens are never stored: verification
// recomputes the token and compares in constant time, so every process that
// reads the same key file accepts the same tokens, across restarts.
package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Size is the length of a token in characters (lower-case hex of 32 bytes).
const Size = 64

// Key is the server secret. It never leaves the key file and the process.
type Key [32]byte

// domain separates token MACs from any other use of the key.
const domain = "agent-bridge token v1"

// Derive returns the token of one session of one conversation.
func (k Key) Derive(conversationID, session string) string {
	return hex.EncodeToString(k.mac(domain, conversationID, session))
}

// Verify reports whether tok is the token of the session. It runs in time
// independent of where tok differs from the expected token.
func (k Key) Verify(conversationID, session, tok string) bool {
	want := k.mac(domain, conversationID, session)
	got, err := hex.DecodeString(tok)
	if err != nil || len(got) != len(want) || tok != strings.ToLower(tok) {
		return false
	}
	return hmac.Equal(got, want)
}

// domainV2 separates the tokens of generation 1 and later (seats joined by
// invite, and rejoins) from the original tokens.
const domainV2 = "agent-bridge token v2"

// DeriveMember returns the token of one member of one conversation at one
// generation. Generation 0 is the original derivation (Derive), so the two
// seats of a conversation created before teams keep their tokens; a higher
// generation folds the generation into the MAC, so a member who left and
// rejoined never gets a token that worked before.
func (k Key) DeriveMember(conversationID, member string, generation int) string {
	if generation == 0 {
		return k.Derive(conversationID, member)
	}
	return hex.EncodeToString(k.mac(domainV2, conversationID, member, strconv.Itoa(generation)))
}

// VerifyMember reports whether tok is the token of the member at that
// generation, in constant time.
func (k Key) VerifyMember(conversationID, member string, generation int, tok string) bool {
	if generation == 0 {
		return k.Verify(conversationID, member, tok)
	}
	want := k.mac(domainV2, conversationID, member, strconv.Itoa(generation))
	got, err := hex.DecodeString(tok)
	if err != nil || len(got) != len(want) || tok != strings.ToLower(tok) {
		return false
	}
	return hmac.Equal(got, want)
}

// MAC returns the hex HMAC of parts under a subkey for purpose, for values
// the bridge stores only as a keyed hash (invite codes).
func (k Key) MAC(purpose string, parts ...string) string {
	return hex.EncodeToString(macOf(k.Sub(purpose), parts))
}

// Sub derives an independent key for another purpose (for example the audit
// chain), so one secret file serves every use without reusing a MAC key.
func (k Key) Sub(purpose string) []byte {
	return k.mac("agent-bridge subkey v1", purpose)
}

func (k Key) mac(parts ...string) []byte { return macOf(k[:], parts) }

// macOf is HMAC-SHA256 under key of each part as "<byte length>:<part>":
// the prefix makes ("ab","c") and ("a","bc") differ.
func macOf(key []byte, parts []string) []byte {
	m := hmac.New(sha256.New, key)
	var buf []byte
	for _, p := range parts {
		buf = strconv.AppendInt(buf[:0], int64(len(p)), 10)
		buf = append(buf, ':')
		buf = append(buf, p...)
		m.Write(buf)
	}
	return m.Sum(nil)
}

// LoadOrCreate reads the key file at path, creating it (mode 0600, parent
// directory 0700) with a fresh random key when it does not exist. Many
// processes may race to create it: the key is written to a temporary file
// and linked into place, so exactly one wins and every process reads the
// same complete key.
func LoadOrCreate(path string) (Key, error) {
	k, err := Load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Key{}, fmt.Errorf("create key directory: %w", err)
	}
	var fresh Key
	if _, err := rand.Read(fresh[:]); err != nil {
		return Key{}, fmt.Errorf("generate key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".agent-bridge-key-*")
	if err != nil {
		return Key{}, fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return Key{}, fmt.Errorf("create key file: %w", err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(fresh[:]) + "\n"); err != nil {
		tmp.Close()
		return Key{}, fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return Key{}, fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Key{}, fmt.Errorf("write key file: %w", err)
	}
	// Link fails if another process created the key first; then use theirs.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return Key{}, fmt.Errorf("install key file: %w", err)
	}
	return Load(path)
}

// Load reads an existing key file. On Unix it refuses a file that others
// can read.
func Load(path string) (Key, error) {
	var k Key
	fi, err := os.Stat(path)
	if err != nil {
		return k, fmt.Errorf("key file: %w", err)
	}
	// On Windows mode bits do not describe access (an ACL does), so only
	// Unix modes are checked.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return k, fmt.Errorf("key file %s is readable by other users (mode %v); run: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return k, fmt.Errorf("key file: %w", err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != len(k) {
		return k, fmt.Errorf("key file %s is damaged: want %d hex characters", path, 2*len(k))
	}
	copy(k[:], raw)
	return k, nil
}
