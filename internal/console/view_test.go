package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/console"
)

func TestVisibleMarksWhatAPersonCannotSee(t *testing.T) {
	show := func(segs []console.Segment) string {
		var b strings.Builder
		for _, s := range segs {
			if s.Mark {
				b.WriteString("[" + s.Text + "]")
			} else {
				b.WriteString(s.Text)
			}
		}
		return b.String()
	}
	cases := []struct{ in, keep, want string }{
		{"ls -la", "", "ls -la"},
		{"rm -rf /tmp/x\u202e/gpj.exe", "", "rm -rf /tmp/x[⟨RLO⟩]/gpj.exe"},
		{"echo a\u200bb", "", "echo a[⟨ZWSP⟩]b"},
		{"echo \x1b[31mred", "", "echo [⟨ESC⟩][31mred"},
		{"a\tb", "", "a[⟨TAB⟩]b"},
		{"a\tb", "\n\t", "a\tb"},
		{"one\ntwo", "", "one[⟨LF⟩]\ntwo"},
		{"one\ntwo", "\n\t", "one\ntwo"},
		{"x\u00a0y", "", "x[⟨NBSP⟩]y"},
		{"x\u2066y", "", "x[⟨LRI⟩]y"},
		{"x\u0085y", "", "x[⟨U+0085⟩]y"},
		{"ünïcödé ✓", "", "ünïcödé ✓"},
	}
	for _, c := range cases {
		if got := show(console.Visible(c.in, c.keep)); got != c.want {
			t.Errorf("Visible(%q, %q) = %q, want %q", c.in, c.keep, got, c.want)
		}
		if console.HasHidden(c.in, c.keep) != (c.in != c.want && show(console.Visible(c.in, c.keep)) != c.in) {
			t.Errorf("HasHidden(%q, %q) disagrees with Visible", c.in, c.keep)
		}
	}
}

func TestRelative(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "never"},
		{now.Add(-2 * time.Second), "just now"},
		{now.Add(-42 * time.Second), "42s ago"},
		{now.Add(-7 * time.Minute), "7m ago"},
		{now.Add(-(3*time.Hour + 5*time.Minute)), "3h 5m ago"},
		{now.Add(2*time.Hour + 59*time.Minute), "in 2h 59m"},
		{now.Add(-72 * time.Hour), "3d ago"},
	} {
		if got := console.Relative(now, c.t); got != c.want {
			t.Errorf("Relative(%v) = %q, want %q", c.t, got, c.want)
		}
	}
}
