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
	kind     string
	keywords []string // lower-case; the rule runs only if one occurs (none: always)
	re       *regexp.Regexp
	group    int               // submatch holding the secret; 0 = whole match
	valid    func(string) bool // nil: every match is a secret
}

func newRule(kind string, keywords []string, expr string, valid func(string) bool) rule {
	re := regexp.MustCompile(expr)
	r := rule{kind: kind, keywords: keywords, re: re, valid: valid}
	if i := re.SubexpIndex("secret"); i > 0 {
		r.group = i
	}
	return r
}

// Redactor applies a set of rules. It is safe for concurrent use.
type Redactor struct {
	rules []rule
	allow []*regexp.Regexp // a finding whose value matches one is dropped
}

var defaultRedactor = sync.OnceValue(func() *Redactor { return &Redactor{rules: builtin()} })

// Default returns the redactor with the built-in rules.
func Default() *Redactor { return defaultRedactor() }

// Text returns s with every secret replaced.
func (r *Redactor) Text(s string) string {
	out, _ := r.Redact(s)
	return out
}

// Redact returns s with every secret replaced, and the findings (offsets
// into s). When nothing is found it returns s itself and nil.
func (r *Redactor) Redact(s string) (string, []Finding) {
	if s == "" {
		return s, nil
	}
	lower := strings.ToLower(s)
	var found []Finding
	for i := range r.rules {
		ru := &r.rules[i]
		if !hasAny(lower, ru.keywords) {
			continue
		}
		for _, m := range ru.re.FindAllStringSubmatchIndex(s, -1) {
			start, end := m[2*ru.group], m[2*ru.group+1]
			if start < 0 {
				continue
			}
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
			return false // a plain word or identifier
		}
		return classes >= 2 && entropy(v) >= 2.5
	}
}
