package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestDeriveVerify(t *testing.T) {
	var k1, k2 Key
	k1[0], k2[0] = 1, 2
	tok := k1.Derive("conv_0123456789abcdef", "a")
	if len(tok) != Size || strings.ToLower(tok) != tok {
		t.Fatalf("token %q: want %d lower-case hex characters", tok, Size)
	}
	if !k1.Verify("conv_0123456789abcdef", "a", tok) {
		t.Fatal("own token rejected")
	}
	for _, tc := range []struct{ name, conv, sess, tok string }{
		{"other session", "conv_0123456789abcdef", "b", tok},
		{"other conversation", "conv_0123456789abcdee", "a", tok},
		{"upper case", "conv_0123456789abcdef", "a", strings.ToUpper(tok)},
		{"short", "conv_0123456789abcdef", "a", tok[:63]},
		{"long", "conv_0123456789abcdef", "a", tok + "0"},
		{"empty", "conv_0123456789abcdef", "a", ""},
		{"not hex", "conv_0123456789abcdef", "a", "z" + tok[1:]},
		{"one bit", "conv_0123456789abcdef", "a", flip(tok)},
	} {
		if k1.Verify(tc.conv, tc.sess, tc.tok) {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if k2.Verify("conv_0123456789abcdef", "a", tok) {
		t.Error("token accepted under another key")
	}
	if string(k1.Sub("audit")) == string(k1.Sub("other")) {
		t.Error("subkeys for different purposes are equal")
	}
}

func flip(tok string) string {
	b := []byte(tok)
	if b[10] == '0' {
		b[10] = '1'
	} else {
		b[10] = '0'
	}
	return string(b)
}

func TestLoadOrCreateRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "bridge.db.key")
	const n = 16
	keys := make([]Key, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := LoadOrCreate(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for i := range keys {
		if keys[i] != keys[0] {
			t.Fatal("racing creators ended with different keys")
		}
	}
	if keys[0] == (Key{}) {
		t.Fatal("zero key")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	dir, _ := os.ReadDir(filepath.Dir(path))
	if len(dir) != 1 {
		t.Errorf("temporary files left behind: %v", dir)
	}
	again, err := LoadOrCreate(path)
	if err != nil || again != keys[0] {
		t.Fatalf("reload: %v, same=%v", err, again == keys[0])
	}
}

func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.key")
	os.WriteFile(open, []byte(strings.Repeat("ab", 32)), 0o644)
	os.Chmod(open, 0o644)
	if _, err := Load(open); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key: err = %v", err)
	}
	bad := filepath.Join(dir, "bad.key")
	os.WriteFile(bad, []byte("nothex"), 0o600)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged key: err = %v", err)
	}
}

func TestDeriveMemberGenerations(t *testing.T) {
	var k Key
	k[0] = 3
	const conv = "conv_0123456789abcdef"
	if k.DeriveMember(conv, "a", 0) != k.Derive(conv, "a") {
		t.Fatal("generation 0 must be the original token")
	}
	g1, g2 := k.DeriveMember(conv, "worker-1", 1), k.DeriveMember(conv, "worker-1", 2)
	if g1 == g2 || g1 == k.Derive(conv, "worker-1") {
		t.Fatal("generations must give different tokens")
	}
	if len(g1) != Size || strings.ToLower(g1) != g1 {
		t.Fatalf("token %q: want %d lower-case hex characters", g1, Size)
	}
	if !k.VerifyMember(conv, "worker-1", 1, g1) || k.VerifyMember(conv, "worker-1", 2, g1) || k.VerifyMember(conv, "worker-2", 1, g1) {
		t.Fatal("a token verifies only for its member and generation")
	}
	if k.VerifyMember(conv, "worker-1", 1, strings.ToUpper(g1)) || k.VerifyMember(conv, "worker-1", 1, g1[:63]) {
		t.Fatal("malformed token accepted")
	}
	if k.MAC("invite", "ABCD") == k.MAC("other", "ABCD") || k.MAC("invite", "ABCD") == k.MAC("invite", "ABCE") {
		t.Fatal("MACs must separate purposes and inputs")
	}
}

// The derivations are pinned to their wire format, written out here
// independently of the code: HMAC-SHA256 under the key of each part as
// "<byte length>:<part>", concatenated. Changing the format would change
// every token issued and every stored MAC, so this test must fail first.
func TestDerivationsFollowTheirFormat(t *testing.T) {
	var k Key
	for i := range k {
		k[i] = byte(i * 7)
	}
	spec := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	const conv = "conv_0123456789abcdef"
	if got, want := k.Derive(conv, "a"), hex.EncodeToString(spec(k[:], "21:agent-bridge token v121:conv_0123456789abcdef1:a")); got != want {
		t.Errorf("Derive = %s, want %s", got, want)
	}
	if got, want := k.DeriveMember(conv, "w-7", 3), hex.EncodeToString(spec(k[:], "21:agent-bridge token v221:conv_0123456789abcdef3:w-71:3")); got != want {
		t.Errorf("DeriveMember = %s, want %s", got, want)
	}
	sub := spec(k[:], "22:agent-bridge subkey v15:audit")
	if got := k.Sub("audit"); !hmac.Equal(got, sub) {
		t.Errorf("Sub = %x, want %x", got, sub)
	}
	if got, want := k.MAC("audit", "x", "héllo"), hex.EncodeToString(spec(sub, "1:x6:héllo")); got != want {
		t.Errorf("MAC = %s, want %s", got, want)
	}
}

// Every call verifies a token: go test -bench Verify ./internal/token
func BenchmarkVerifyMember(b *testing.B) {
	var k Key
	tok := k.DeriveMember("conv_0123456789abcdef", "w-7", 3)
	for b.Loop() {
		if !k.VerifyMember("conv_0123456789abcdef", "w-7", 3, tok) {
			b.Fatal("token refused")
		}
	}
}
