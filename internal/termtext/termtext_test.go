package termtext

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSafe(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"git status", "git status"},
		{`grep -e 'a\.b' café 日本`, `grep -e 'a\.b' café 日本`},
		{"\x1b[2K\rsandbox:   on", `\x1b[2K\rsandbox:   on`},
		{"\x1b]0;title\x07", `\x1b]0;title\x07`},
		{"\x1b]52;c;ZWNobw==\x1b\\", `\x1b]52;c;ZWNobw==\x1b\`},
		{"\u009b31m", `\u009b31m`}, // C1 CSI
		{"rm -rf /tmp/x\u202e\u2066", `rm -rf /tmp/x\u202e\u2066`},
		{"a\u200bb\ufeffc\u00adD", `a\u200bb\ufeffc\u00adD`},
		{"a\u00a0b\u3000c", `a\u00a0b\u3000c`},
		{"l\u2028m\u2029", `l\u2028m\u2029`},
		{"x\ufe0fy\U000e0100\u3164\u2800", `x\ufe0fy\U000e0100\u3164\u2800`},
		{"tag\U000e0041", `tag\U000e0041`},
		{"bad\xff\xfe", `bad\xff\xfe`},
		{"del\x7f", `del\x7f`},
		{"tab\there\nline", `tab\there\nline`},
	} {
		if got := Safe(c.in); got != c.want {
			t.Errorf("Safe(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestBlockKeepsLineBreaks(t *testing.T) {
	if got, want := Block("make\n\tgo test\x1b[A\n"), "make\n\\tgo test\\x1b[A\n"; got != want {
		t.Errorf("Block = %q, want %q", got, want)
	}
}

// FuzzSafe: whatever goes in, what comes out is valid UTF-8 on one line
// with nothing a terminal interprets or hides, and printable ASCII passes
// through unchanged.
func FuzzSafe(f *testing.F) {
	for _, s := range []string{"ls -la", "\x1b[31mred", "\u202eevil", "a\xffb", "\t\n\r", "\u0085\u061c\u180e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Safe(s), Block(s)} {
			if !utf8.ValidString(out) {
				t.Fatalf("not UTF-8: %q", out)
			}
			for _, r := range out {
				if r == '\n' && out == Block(s) {
					continue
				}
				if hidden(r) || unicode.Is(unicode.Cf, r) {
					t.Fatalf("%q left %U in %q", s, r, out)
				}
			}
		}
		if strings.Contains(Safe(s), "\n") {
			t.Fatalf("Safe(%q) spans lines", s)
		}
		printable := true
		for i := 0; i < len(s); i++ {
			printable = printable && s[i] >= 0x20 && s[i] < 0x7f
		}
		if printable && Safe(s) != s {
			t.Fatalf("Safe changed printable ASCII %q to %q", s, Safe(s))
		}
	})
}
