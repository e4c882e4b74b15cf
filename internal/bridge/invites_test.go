package bridge

import "testing"

func TestNormalizeInviteCode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"7K2M-QX9D-4HNC", "7K2MQX9D4HNC", true},
		{"7k2m qx9d 4hnc", "7K2MQX9D4HNC", true},
		{"7K2MQX9D4HNC", "7K2MQX9D4HNC", true},
		{"oIlO-0000-0000", "011000000000", true}, // Crockford: O is 0, I and L are 1
		{"7K2M-QX9D-4HN", "", false},             // 11 characters
		{"7K2M-QX9D-4HNCC", "", false},           // 13
		{"7K2M-QX9D-4HNU", "", false},            // U is not in the alphabet
		{"7K2M-QX9D-4HN!", "", false},
		{"7K2M-QX9D-4HNÇ", "", false},
		{"", "", false},
	} {
		got, ok := NormalizeInviteCode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeInviteCode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	for i := 0; i < 100; i++ {
		code, err := newInviteCode()
		if err != nil {
			t.Fatal(err)
		}
		if norm, ok := NormalizeInviteCode(code); !ok || len(norm) != 12 || len(code) != 14 {
			t.Fatalf("a fresh code %q does not normalise", code)
		}
	}
}

func TestSuggestMemberID(t *testing.T) {
	r := roster{active: []Membership{{Member: "a"}, {Member: "backend-worker"}}, pending: []Invite{{Member: "tester"}}}
	for role, want := range map[string]Member{
		"Backend Worker": "backend-worker-2",
		"tester":         "tester-2",
		"QA engineer":    "qa-engineer",
		"42 helpers":     "helpers",
		"!!!":            "member",
		"all":            "member",
		"a very long role name that goes on and on": "a-very-long-role-name-that-g", // 28: room for a suffix
	} {
		got := r.suggest(role)
		if got != want || !got.Valid() {
			t.Errorf("suggest(%q) = %q, want %q", role, got, want)
		}
	}
}
