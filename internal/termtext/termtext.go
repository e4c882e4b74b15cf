// Package termtext makes untrusted text safe to print on a terminal.
//
// Text that reaches a person's terminal from agents (workspace names,
// roles, commands, messages) may carry escape sequences that move the
// cursor, recolour or rewrite what was printed before (a fake "sandbox:
// on" line), OSC sequences that set the title or a clipboard, bidirectional
// overrides that show text in another order than it runs, and invisible
// characters that hide part of it. Safe turns every such character into a
// visible escape (\x1b, \u202e), so what is printed is what the text holds.
package termtext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Safe returns s with every character that is not plainly visible written
// as an escape: C0 and C1 control characters and DEL (tab, newline and
// carriage return as \t, \n, \r; the rest as \xNN or \uNNNN), format
// characters such as bidirectional overrides and zero-width spaces,
// non-ASCII spaces, line and paragraph separators, private-use, surrogate
// and unassigned code points, variation selectors and the invisible
// fillers some scripts have; bytes that are not UTF-8 as \xNN. Everything
// else, including a backslash, is kept as it is, so printable text is
// unchanged. The result is one line.
func Safe(s string) string { return escape(s, false) }

// Block is Safe, except that newlines stay line breaks: for multi-line
// text such as a command or a message body.
func Block(s string) string { return escape(s, true) }

func escape(s string, keepNewlines bool) string {
	if plain(s, keepNewlines) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' && keepNewlines:
			b.WriteByte('\n')
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80 && hidden(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r) && r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// plain reports whether s needs no escaping (the common case, without
// allocating).
func plain(s string, keepNewlines bool) bool {
	for _, r := range s {
		if r == utf8.RuneError || hidden(r) && !(keepNewlines && r == '\n') {
			return false
		}
	}
	return true
}

// hidden reports whether r is not plainly visible on a terminal.
func hidden(r rune) bool {
	if r < 0x80 {
		return r < 0x20 || r == 0x7f
	}
	if !unicode.IsPrint(r) { // Cc, Cf, Co, Cs, Zl, Zp, Zs other than ' ', unassigned
		return true
	}
	return unicode.Is(invisible, r)
}

// invisible are printable code points that draw nothing or modify their
// neighbour unseen: the combining grapheme joiner, Hangul and Khmer
// fillers, Mongolian variation selectors, the braille blank and the
// variation selectors.
var invisible = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x034f, Hi: 0x034f, Stride: 1},
		{Lo: 0x115f, Hi: 0x1160, Stride: 1},
		{Lo: 0x17b4, Hi: 0x17b5, Stride: 1},
		{Lo: 0x180b, Hi: 0x180f, Stride: 1},
		{Lo: 0x2800, Hi: 0x2800, Stride: 1},
		{Lo: 0x3164, Hi: 0x3164, Stride: 1},
		{Lo: 0xfe00, Hi: 0xfe0f, Stride: 1},
		{Lo: 0xffa0, Hi: 0xffa0, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0xe0100, Hi: 0xe01ef, Stride: 1},
	},
}
