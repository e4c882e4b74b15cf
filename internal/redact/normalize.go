package redact

import (
	"strings"
	"unicode/utf8"
)

// A view is the text the rules match: the original, or a copy with some
// bytes dropped or folded. pos maps each byte of text to the offset in the
// original of the character it came from, and end to the offset just after
// it; both are nil when text is the original.
type view struct {
	text     string
	pos, end []int
}

// toOriginal rewrites findings in view offsets into original offsets.
func (v view) toOriginal(f []Finding) {
	if v.pos == nil {
		return
	}
	for i := range f {
		f[i].Start, f[i].End = v.pos[f[i].Start], v.end[f[i].End-1]
	}
}

// normalize returns the view of s the rules match: zero-width characters
// (which a chat client or a document may slip into a token or a key name)
// are dropped and full-width ASCII look-alikes folded to ASCII. Text
// without them (nearly all) is returned as is, at the cost of a few
// byte searches.
func normalize(s string) view {
	if !mayNeedNormalizing(s) {
		return view{text: s}
	}
	var b strings.Builder
	pos := make([]int, 0, len(s))
	end := make([]int, 0, len(s))
	changed := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case isZeroWidth(r):
			changed = true
		case 0xFF01 <= r && r <= 0xFF5E: // full-width ! to ~
			changed = true
			b.WriteByte(byte(r - 0xFEE0))
			pos, end = append(pos, i), append(end, i+n)
		case r == 0x3000: // ideographic space
			changed = true
			b.WriteByte(' ')
			pos, end = append(pos, i), append(end, i+n)
		default:
			b.WriteString(s[i : i+n])
			for k := 0; k < n; k++ {
				pos, end = append(pos, i), append(end, i+n)
			}
		}
		i += n
	}
	if !changed {
		return view{text: s}
	}
	return view{text: b.String(), pos: pos, end: end}
}

// mayNeedNormalizing reports whether s holds a lead byte of a character
// normalize changes: U+00AD (C2), U+200B-U+200D and U+2060 (E2), U+3000
// (E3), U+FEFF and U+FF01-U+FF5E (EF).
func mayNeedNormalizing(s string) bool {
	for _, b := range []byte{0xE2, 0xEF, 0xC2, 0xE3} {
		if strings.IndexByte(s, b) >= 0 {
			return true
		}
	}
	return false
}

func isZeroWidth(r rune) bool {
	switch r {
	case 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD:
		return true
	}
	return false
}

// Hard-wrapped tokens: a terminal, an editor or a chat window may break a
// long token across lines. A break is joined when the line ends in a token
// run of at least minWrapLeft bytes and the next line starts, after any
// indentation, with a run that is not a key (not followed by : or =).
const minWrapLeft = 8

func isTokenByte(c byte) bool {
	return isAlnum(c) || c == '_' || c == '-' || c == '+' || c == '/' || c == '='
}

// joinWrapped returns a view of s with wrapped token lines joined, and
// whether it joined any. Only fixed-shape rules match this view (see
// mergeWrapped).
func joinWrapped(s string) (view, bool) {
	nl := strings.IndexByte(s, '\n')
	if nl < 0 {
		return view{}, false
	}
	var cuts [][2]int // byte ranges of s to drop: line break and indentation
	for ; nl >= 0; nl = nextNewline(s, nl+1) {
		lineEnd := nl
		if lineEnd > 0 && s[lineEnd-1] == '\r' {
			lineEnd--
		}
		left := lineEnd
		for left > 0 && isTokenByte(s[left-1]) {
			left--
		}
		if lineEnd-left < minWrapLeft {
			continue
		}
		next := nl + 1
		for next < len(s) && (s[next] == ' ' || s[next] == '\t') {
			next++
		}
		right := next
		for right < len(s) && isTokenByte(s[right]) {
			right++
		}
		if right-next < 2 || (right < len(s) && strings.IndexByte(":=([{", s[right]) >= 0) {
			continue
		}
		cuts = append(cuts, [2]int{lineEnd, next})
	}
	if len(cuts) == 0 {
		return view{}, false
	}
	var b strings.Builder
	pos := make([]int, 0, len(s))
	end := make([]int, 0, len(s))
	last := 0
	for _, c := range append(cuts, [2]int{len(s), len(s)}) {
		b.WriteString(s[last:c[0]])
		for i := last; i < c[0]; i++ {
			pos, end = append(pos, i), append(end, i+1)
		}
		last = c[1]
	}
	return view{text: b.String(), pos: pos, end: end}, true
}

func nextNewline(s string, from int) int {
	if i := strings.IndexByte(s[from:], '\n'); i >= 0 {
		return from + i
	}
	return -1
}

// mergeWrapped adds to found (offsets in the normalised text) the findings
// of fixed-shape rules on the joined view that cross a joined break: a
// token the unjoined text shows only in part. A token already whole on its
// line keeps its own finding, so a join never pulls the next line's words
// into a secret.
func mergeWrapped(found, joined []Finding, w view) []Finding {
	for _, f := range joined {
		start, end := w.pos[f.Start], w.end[f.End-1]
		if end-start == f.End-f.Start {
			continue // no break inside
		}
		whole := false
		for _, g := range found {
			if g.Kind == f.Kind && g.Start == start {
				whole = true
				break
			}
		}
		if !whole {
			found = append(found, Finding{Kind: f.Kind, Start: start, End: end})
		}
	}
	return found
}
