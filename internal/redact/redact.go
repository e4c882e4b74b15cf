// Package redact finds secrets in text and replaces each one with a
// placeholder naming its kind, "[REDACTED:kind]". Only the secret is
// replaced: key names, separators, quotes and the words around it stay
// byte for byte.
//
// Detection is a list of rules, each a Go regexp (RE2: linear time on any
// input) guarded by cheap keywords, so clean text costs little more than
// one lower-casing pass. A rule may mark the secret with a group named
// "secret"; otherwise the whole match is the secret. A validator can reject
// matches that are placeholders or references rather than values, and a
// judge can look at the words around a match (the key's name, what lies
// between a keyword and its value). A few rules read structure instead of
// matching a pattern (Kubernetes Secret manifests, markdown tables), in one
// linear pass.
//
// Rules come in families (rules.go): fixed token shapes; keys without a
// prefix told by a nearby word (near); passwords given to tools; key =
// value assignments in code, config and prose. values.go holds the
// judgements they share; normalize.go the views of the text they match
// (zero-width characters dropped, full-width letters folded, wrapped
// tokens joined).
//
// Extra rules and an allowlist load from a file (see Load).
package redact

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Finding is one secret: its kind and the byte offsets of its value.
type Finding struct {
	Kind       string
	Start, End int
}

// Count is how many secrets of one kind were found.
type Count struct {
	Kind string
	N    int
}

// Placeholder is what replaces a secret of the given kind.
func Placeholder(kind string) string { return "[REDACTED:" + kind + "]" }

// rule detects one kind of secret.
type rule struct {
	kind      string
	keywords  []string // lower case; the rule runs only near one of them
	expr      string   // Go (RE2) syntax; groups named "secret" mark the value
	multiline bool     // the secret may span lines (key blocks)
	tight     bool     // the match starts at its keyword and ends soon after (key = value)
	anchored  bool     // tight, and the match starts exactly where a keyword does
	trusted   bool     // a user's rule: its matches are not second-guessed as placeholders
	shape     bool     // a fixed token shape: may be matched across a wrapped line
	valid     func(string) bool
	// around, when set, also judges a value by its surroundings: s is the
	// text, m the submatch offsets in s, [start, end) the value.
	around func(ru *rule, s string, m []int, start, end int) bool
	// find, when set, replaces expr: it returns the values found in s.
	find func(s string) [][2]int

	re     *regexp.Regexp
	reAt   *regexp.Regexp // re anchored at its start, for anchored rules
	groups []int          // submatches named "secret" (the first that matched is the value); none = whole match
}

func (r *rule) compile() error {
	if r.find != nil {
		return nil
	}
	re, err := regexp.Compile(r.expr)
	if err != nil {
		return err
	}
	r.re = re
	if r.anchored {
		r.reAt = regexp.MustCompile(`^(?:` + r.expr + `)`)
	}
	r.groups = nil
	for i, name := range re.SubexpNames() {
		if name == "secret" {
			r.groups = append(r.groups, i)
		}
	}
	return nil
}

// named returns the offsets of the first submatch called name that
// matched, or -1, -1.
func (r *rule) named(name string, m []int) (int, int) {
	if r.re == nil {
		return -1, -1
	}
	for i, n := range r.re.SubexpNames() {
		if n == name && m[2*i] >= 0 {
			return m[2*i], m[2*i+1]
		}
	}
	return -1, -1
}

// value returns the offsets of the secret in a match.
func (r *rule) value(m []int) (int, int) {
	if len(r.groups) == 0 {
		return m[0], m[1]
	}
	for _, g := range r.groups {
		if m[2*g] >= 0 {
			return m[2*g], m[2*g+1]
		}
	}
	return -1, -1
}

// Redactor applies a set of rules. It is safe for concurrent use.
type Redactor struct {
	rules    []rule
	allow    []*regexp.Regexp // a finding whose value matches one is dropped
	keywords *keywordIndex
	always   bool // some rule has no keywords
}

func newRedactor(rules []rule) *Redactor {
	seen := map[string]bool{}
	var words []string
	r := &Redactor{rules: rules}
	for i := range rules {
		if err := rules[i].compile(); err != nil {
			panic(fmt.Sprintf("redact: rule %s: %v", rules[i].kind, err)) // built-in rules are static
		}
		r.always = r.always || len(rules[i].keywords) == 0
		for _, w := range rules[i].keywords {
			if !seen[w] {
				seen[w] = true
				words = append(words, w)
			}
		}
	}
	r.keywords = newKeywordIndex(words)
	return r
}

var defaultRedactor = sync.OnceValue(func() *Redactor { return newRedactor(builtin()) })

// Default returns the redactor with the built-in rules.
func Default() *Redactor { return defaultRedactor() }

// Text returns s with every secret replaced.
func (r *Redactor) Text(s string) string {
	out, _ := r.Redact(s)
	return out
}

// Windows around a keyword: its line, within these bounds.
const (
	windowBefore    = 128
	windowAfter     = 384
	tightBefore     = 24  // the longest key-name prefix before a keyword
	tightAfter      = 256 // key, separator and value
	multilineWindow = 64 << 10
)

// Redact returns s with every secret replaced, and the findings (offsets
// into s). When nothing is found it returns s itself and nil.
//
// A rule's regexp runs only on the lines around its keywords' occurrences,
// so text without keywords costs one case-folding pass and a substring
// search per keyword, and text with them costs little more than its
// keyword lines.
//
// Matching sees a normalised copy of the text when it needs one (zero-width
// characters dropped, full-width letters folded to ASCII, see normalize),
// and a second copy with hard-wrapped tokens joined; findings are mapped
// back, so what is replaced is always the original span.
func (r *Redactor) Redact(s string) (string, []Finding) {
	if s == "" {
		return s, nil
	}
	v := normalize(s)
	found := r.scan(v.text, false)
	if w, ok := joinWrapped(v.text); ok {
		found = mergeWrapped(found, r.scan(w.text, true), w)
	}
	if len(found) == 0 {
		return s, nil
	}
	v.toOriginal(found)
	found = resolve(found)
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, f := range found {
		b.WriteString(s[last:f.Start])
		b.WriteString(Placeholder(f.Kind))
		last = f.End
	}
	b.WriteString(s[last:])
	return b.String(), found
}

// scan returns the findings of every rule in s (offsets into s). With
// shapesOnly, only fixed-shape token rules run (on text whose wrapped lines
// were joined).
func (r *Redactor) scan(s string, shapesOnly bool) []Finding {
	hits := r.keywords.find(s)
	if len(hits) == 0 && !r.always {
		return nil
	}
	var found []Finding
	var ws [][2]int // windows, reused from rule to rule
	done := placeholders(s)
	add := func(ru *rule, m []int, start, end int) {
		// A value never ends in whitespace (a block's final newline
		// belongs to the text around it), nor in the backslash of an
		// escaped closing quote.
		for end > start && strings.IndexByte(" \t\r\n", s[end-1]) >= 0 {
			end--
		}
		if end > start && s[end-1] == '\\' && end < len(s) && (s[end] == '"' || s[end] == '\'') {
			end--
		}
		if start >= end || overlaps(done, start, end) {
			return // nothing, or a part of text already redacted
		}
		v := s[start:end]
		if strings.HasPrefix(v, "[REDACTED:") || (!ru.multiline && !ru.trusted && isPlaceholder(v)) || r.allowed(v) ||
			(ru.valid != nil && !ru.valid(v)) || (ru.around != nil && !ru.around(ru, s, m, start, end)) {
			return
		}
		found = append(found, Finding{Kind: ru.kind, Start: start, End: end})
	}
	for i := range r.rules {
		ru := &r.rules[i]
		if (shapesOnly && !ru.shape) || (len(hits) == 0 && len(ru.keywords) > 0) {
			continue
		}
		if ru.find != nil {
			if hasHit(ru, hits) {
				for _, f := range ru.find(s) {
					add(ru, []int{f[0], f[1]}, f[0], f[1])
				}
			}
			continue
		}
		if ru.anchored {
			// Try the regexp once at each keyword, not at every byte of a
			// window: the backtracker's cost grows with the program's size.
			for _, kw := range ru.keywords {
				for _, p := range hits[kw] {
					end := min(p+len(kw)+tightAfter, len(s))
					if nl := strings.IndexByte(s[p:end], '\n'); nl >= 0 {
						end = p + nl
					}
					m := ru.reAt.FindStringSubmatchIndex(s[p:end])
					if m == nil {
						continue
					}
					for j := range m {
						if m[j] >= 0 {
							m[j] += p
						}
					}
					if start, end := ru.value(m); start >= 0 {
						add(ru, m, start, end)
					}
				}
			}
			continue
		}
		ws = windows(s, ru, hits, ws[:0])
		for _, w := range ws {
			for _, m := range ru.re.FindAllStringSubmatchIndex(s[w[0]:w[1]], -1) {
				for j := range m {
					if m[j] >= 0 {
						m[j] += w[0]
					}
				}
				if start, end := ru.value(m); start >= 0 {
					add(ru, m, start, end)
				}
			}
		}
	}
	return found
}

// placeholders returns the spans of s that are our own placeholders,
// [REDACTED:kind], so that redacting redacted text changes nothing.
func placeholders(s string) [][2]int {
	var out [][2]int
	for off := 0; ; {
		i := strings.Index(s[off:], "[REDACTED:")
		if i < 0 {
			return out
		}
		start := off + i
		end := start + len("[REDACTED:")
		if j := strings.IndexByte(s[end:], ']'); j >= 0 {
			end += j + 1
		}
		out = append(out, [2]int{start, end})
		off = end
	}
}

// overlaps reports whether [start, end) overlaps one of spans (sorted,
// disjoint).
func overlaps(spans [][2]int, start, end int) bool {
	i := sort.Search(len(spans), func(i int) bool { return spans[i][1] > start })
	return i < len(spans) && spans[i][0] < end
}

func hasHit(ru *rule, hits map[string][]int) bool {
	if len(ru.keywords) == 0 {
		return true
	}
	for _, k := range ru.keywords {
		if len(hits[k]) > 0 {
			return true
		}
	}
	return false
}

// windows returns the merged byte ranges of s a rule must search: for each
// occurrence of one of its keywords, from the start of that line to its end
// (or further, for multi-line rules), within bounds. A rule without
// keywords searches all of s.
//
// The windows are appended to ws (pass ws[:0] to reuse its array).
func windows(s string, ru *rule, hits map[string][]int, ws [][2]int) [][2]int {
	if len(ru.keywords) == 0 {
		return append(ws, [2]int{0, len(s)})
	}
	for _, kw := range ru.keywords {
		for _, p := range hits[kw] {
			before, after := windowBefore, windowAfter
			if ru.tight {
				before, after = tightBefore, tightAfter
			}
			start := max(p-before, 0)
			if nl := strings.LastIndexByte(s[start:p], '\n'); nl >= 0 {
				start += nl + 1
			}
			var end int
			if ru.multiline {
				end = min(p+multilineWindow, len(s))
			} else {
				end = min(p+len(kw)+after, len(s))
				if nl := strings.IndexByte(s[p:end], '\n'); nl >= 0 {
					end = p + nl
				}
			}
			ws = append(ws, [2]int{start, end})
		}
	}
	if len(ws) < 2 {
		return ws
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i][0] < ws[j][0] })
	out := ws[:1]
	for _, w := range ws[1:] {
		if last := &out[len(out)-1]; w[0] <= last[1] {
			last[1] = max(last[1], w[1])
		} else {
			out = append(out, w)
		}
	}
	return out
}

func (r *Redactor) allowed(v string) bool {
	for _, a := range r.allow {
		if a.MatchString(v) {
			return true
		}
	}
	return false
}

// resolve orders findings and drops any that overlap an earlier one; at the
// same start the longer wins, and at equal length the earlier rule (rules
// are listed most specific first).
func resolve(f []Finding) []Finding {
	sort.SliceStable(f, func(i, j int) bool {
		if f[i].Start != f[j].Start {
			return f[i].Start < f[j].Start
		}
		return f[i].End > f[j].End
	})
	out := f[:0]
	end := -1
	for _, x := range f {
		if x.Start < end {
			continue
		}
		out = append(out, x)
		end = x.End
	}
	return out
}

// Counts aggregates findings by kind, sorted by kind.
func Counts(f []Finding) []Count {
	m := map[string]int{}
	for _, x := range f {
		m[x.Kind]++
	}
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{Kind: k, N: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}
