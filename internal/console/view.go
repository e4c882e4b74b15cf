package console

import (
	"fmt"
	"html/template"
	"strings"
	"time"
	"unicode"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// Segment is a piece of text as the page shows it: plain text, or an
// invisible or control character made visible (Mark).
type Segment struct {
	Text string
	Mark bool
}

// names of the characters people most often meet.
var charNames = map[rune]string{
	'\t': "TAB", '\r': "CR", '\n': "LF", 0x1b: "ESC", 0x7f: "DEL", 0x00: "NUL", 0x08: "BS",
	0x200b: "ZWSP", 0x200c: "ZWNJ", 0x200d: "ZWJ", 0x200e: "LRM", 0x200f: "RLM", 0x2060: "WJ", 0xfeff: "BOM",
	0x202a: "LRE", 0x202b: "RLE", 0x202c: "PDF", 0x202d: "LRO", 0x202e: "RLO",
	0x2066: "LRI", 0x2067: "RLI", 0x2068: "FSI", 0x2069: "PDI", 0x00ad: "SHY", 0x00a0: "NBSP",
}

// Visible splits s into plain text and marked characters: controls,
// format characters (bidirectional overrides, zero-width characters) and
// unusual spaces. keep lists controls shown as themselves (a message's
// line breaks); a command keeps none.
func Visible(s string, keep string) []Segment {
	var out []Segment
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, Segment{Text: b.String()})
			b.Reset()
		}
	}
	for _, r := range s {
		if strings.ContainsRune(keep, r) || !hidden(r) {
			b.WriteRune(r)
			continue
		}
		flush()
		name, ok := charNames[r]
		if !ok {
			name = fmt.Sprintf("U+%04X", r)
		}
		out = append(out, Segment{Text: "⟨" + name + "⟩", Mark: true})
		if r == '\n' {
			b.WriteRune('\n') // a marked line break still breaks the line
		}
	}
	flush()
	return out
}

func hidden(r rune) bool {
	switch {
	case r == unicode.ReplacementChar:
		return true
	case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r):
		return true
	case unicode.IsSpace(r) && r != ' ':
		return true
	case unicode.Is(unicode.Zs, r) && r != ' ':
		return true
	}
	return false
}

// HasHidden reports whether Visible would mark anything in s.
func HasHidden(s, keep string) bool {
	for _, r := range s {
		if !strings.ContainsRune(keep, r) && hidden(r) {
			return true
		}
	}
	return false
}

// Relative renders how long ago (or until) t is from now, for people.
func Relative(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, ""
	}
	var s string
	switch {
	case d < 5*time.Second:
		if suffix == "" {
			return "now"
		}
		return "just now"
	case d < time.Minute:
		s = fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		s = fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
	if suffix == "" {
		return "in " + s
	}
	return s + suffix
}

func funcs(now func() time.Time) template.FuncMap {
	return template.FuncMap{
		"ago": func(t time.Time) string { return Relative(now(), t) },
		"iso": func(t time.Time) string { return bridge.FormatTime(t) },
		"clock": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Local().Format("15:04:05")
		},
		"text":    func(s string) []Segment { return Visible(s, "\n\t") },
		"command": func(s string) []Segment { return Visible(s, "") },
		"hidden":  func(s string) bool { return HasHidden(s, "") },
		"human":   bridge.Human,
		"short": func(s string, n int) string {
			if len(s) <= n {
				return s
			}
			return s[:n] + "…"
		},
		"msg":         messageView,
		"modeSummary": bridge.ModeSummary,
		"phrase":      bridge.ConsentPhrase,
	}
}

// msgView is a message with the roles of its sender and recipient.
type msgView struct {
	bridge.Message
	FromRole, ToRole string
}

func messageView(p *page, m bridge.Message) msgView {
	v := msgView{Message: m}
	if p.Conv != nil {
		for _, mem := range p.Conv.Members {
			switch mem.ID {
			case string(m.From):
				v.FromRole = mem.Role
			case string(m.Recipient()):
				v.ToRole = mem.Role
			}
		}
	}
	return v
}
