package bridge

import (
	"regexp"
	"testing"
)

// The byte-by-byte id checks accept exactly what their exported patterns
// (which tool schemas and docs quote) accept.
func TestIDChecksMatchPatterns(t *testing.T) {
	member, conv := regexp.MustCompile(MemberIDPattern), regexp.MustCompile(ConversationIDPattern)
	ids := []string{"", "a", "b", "z", "A", "0", "_", "-", "a0", "a_b-c", "a ", " a", "a\n", "a\x00", "aé", "é",
		"abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz0123456", "bridge", "all", "*",
		"conv_0123456789abcdef", "conv_0123456789abcdeF", "conv_0123456789abcdeg", "conv_0123456789abcde",
		"conv_0123456789abcdef0", "Conv_0123456789abcdef", "conv-0123456789abcdef", "conv_0123456789abcdef\n",
		"conv_0123456789abcd\xc3\xa9", "xconv_0123456789abcd"}
	// Every one- and two-byte string, to reach each byte in each position.
	for i := 0; i < 256; i++ {
		ids = append(ids, string([]byte{byte(i)}), "a"+string([]byte{byte(i)}), "conv_0123456789abcde"+string([]byte{byte(i)}))
	}
	for _, id := range ids {
		if got, want := Member(id).Valid(), member.MatchString(id); got != want {
			t.Errorf("Member(%q).Valid() = %v, the pattern says %v", id, got, want)
		}
		if got, want := ValidConversationID(id), conv.MatchString(id); got != want {
			t.Errorf("ValidConversationID(%q) = %v, the pattern says %v", id, got, want)
		}
	}
}

func FuzzIDChecksMatchPatterns(f *testing.F) {
	member, conv := regexp.MustCompile(MemberIDPattern), regexp.MustCompile(ConversationIDPattern)
	for _, s := range []string{"a", "conv_0123456789abcdef", "a_b-c", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if Member(id).Valid() != member.MatchString(id) || ValidConversationID(id) != conv.MatchString(id) {
			t.Errorf("%q: the byte checks and the patterns disagree", id)
		}
	})
}
