// Package redact finds secrets in text and replaces each one with a
// placeholder naming its kind, "[REDACTED:kind]". Only the secret is
// replaced: key names, separators, quotes and the words around it stay
// byte for byte.
//
// Detection is a list of rules, each a Go regexp (RE2: linear time on any
// input) guarded by cheap keywords, so clean text costs little more than
// one lower-casing pass. A rule may mark the secret with a group named
// "secret"; otherwise the whole match is the secret. A validator can reject
// matches that are placeholders or references rather than values.
//
// Extra rules and an allowlist load from a file (see Load).
package redact

import (
	"fmt"
	"math"
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
	expr      string   // Go (RE2) syntax; a group named "secret" marks the value
	multiline bool     // the secret may span lines (key blocks)
	tight     bool     // the match starts at its keyword and ends soon after (key = value)
	valid     func(string) bool

	re    *regexp.Regexp
	group int // submatch holding the secret; 0 = whole match
}

func (r *rule) compile() error {
	re, err := regexp.Compile(r.expr)
	if err != nil {
		return err
	}
	r.re = re
	if i := re.SubexpIndex("secret"); i > 0 {
		r.group = i
	}
	return nil
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
func (r *Redactor) Redact(s string) (string, []Finding) {
	if s == "" {
		return s, nil
	}
	hits := r.keywords.find(s)
	if len(hits) == 0 && !r.always {
		return s, nil
	}
	var found []Finding
	for i := range r.rules {
		ru := &r.rules[i]
		for _, w := range windows(s, ru, hits) {
			for _, m := range ru.re.FindAllStringSubmatchIndex(s[w[0]:w[1]], -1) {
				start, end := m[2*ru.group], m[2*ru.group+1]
				if start < 0 {
					continue
				}
				start, end = start+w[0], end+w[0]
				// A value never ends in whitespace (a block's final newline
				// belongs to the text around it).
				for end > start && strings.IndexByte(" \t\r\n", s[end-1]) >= 0 {
					end--
				}
				if start == end {
					continue
				}
				v := s[start:end]
				if strings.HasPrefix(v, "[REDACTED:") || (ru.valid != nil && !ru.valid(v)) || r.allowed(v) {
					continue
				}
				found = append(found, Finding{Kind: ru.kind, Start: start, End: end})
			}
		}
	}
	if len(found) == 0 {
		return s, nil
	}
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

// windows returns the merged byte ranges of s a rule must search: for each
// occurrence of one of its keywords, from the start of that line to its end
// (or further, for multi-line rules), within bounds. A rule without
// keywords searches all of s.
func windows(s string, ru *rule, hits map[string][]int) [][2]int {
	if len(ru.keywords) == 0 {
		return [][2]int{{0, len(s)}}
	}
	var ws [][2]int
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

func hasAny(lower string, keywords []string) bool {
	if len(keywords) == 0 {
		return true
	}
	for _, k := range keywords {
		if strings.Contains(lower, k) {
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

// isPlaceholder reports values that stand for a secret rather than being
// one: references to variables, template slots, masks and our own
// placeholders.
func isPlaceholder(v string) bool {
	t := strings.Trim(v, `"'`)
	l := strings.ToLower(t)
	switch {
	case t == "":
		return true
	case strings.HasPrefix(t, "[REDACTED"), strings.HasPrefix(t, "$"), strings.HasPrefix(t, "%"),
		strings.HasPrefix(t, "{{"), strings.HasPrefix(t, "<"), strings.HasPrefix(t, "${"):
		return true
	case strings.Contains(l, "process.env"), strings.Contains(l, "os.environ"), strings.Contains(l, "getenv"),
		strings.Contains(l, "your_"), strings.Contains(l, "your-"), strings.Contains(l, "example"),
		strings.Contains(l, "placeholder"), strings.Contains(l, "redacted"), strings.Contains(l, "changeme"):
		return true
	case strings.Trim(l, "*x.-_•") == "":
		return true
	}
	return false
}

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var freq [256]int
	for i := 0; i < len(s); i++ {
		freq[s[i]]++
	}
	h := 0.0
	n := float64(len(s))
	for _, c := range freq {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// looksSecret accepts values that look generated or chosen as a credential
// rather than a word, a number, an identifier or a placeholder: long
// enough, mixing letters with digits or symbols, not a call.
func looksSecret(min int) func(string) bool {
	return func(v string) bool {
		v = strings.Trim(v, `"'`)
		if len(v) < min || strings.ContainsAny(v, "() ") || isPlaceholder(v) {
			return false
		}
		var lower, upper, digit, other bool
		for _, c := range v {
			switch {
			case c >= 'a' && c <= 'z':
				lower = true
			case c >= 'A' && c <= 'Z':
				upper = true
			case c >= '0' && c <= '9':
				digit = true
			case c == '_' || c == '.' || c == '-':
				// identifier and path punctuation: not a sign of a secret
			default:
				other = true
			}
		}
		classes := 0
		for _, b := range []bool{lower, upper, digit, other} {
			if b {
				classes++
			}
		}
		if !digit && !other {
			return false // a word, an identifier or a dotted name
		}
		return classes >= 2 && entropy(v) >= 2.5
	}
}

// mixedCase accepts generated-looking strings of at least min bytes that
// mix upper case, lower case and digits (hashes and ids are single-case).
func mixedCase(min int) func(string) bool {
	return func(v string) bool {
		if len(v) < min || isPlaceholder(v) {
			return false
		}
		var lower, upper, digit bool
		for i := 0; i < len(v); i++ {
			c := v[i]
			lower = lower || 'a' <= c && c <= 'z'
			upper = upper || 'A' <= c && c <= 'Z'
			digit = digit || '0' <= c && c <= '9'
		}
		return lower && upper && digit && entropy(v) >= 3.5
	}
}
