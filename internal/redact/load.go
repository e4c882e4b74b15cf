package redact

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
)

var kindRe = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// Load returns a redactor with the built-in rules plus those in the file at
// path. The file is UTF-8 text, one directive a line; blank lines and lines
// starting with # are ignored:
//
//	rule KIND KEYWORDS REGEXP
//	allow REGEXP
//
// A rule adds a detector: KIND is lower-kebab-case (it appears in the
// placeholder, [REDACTED:KIND]); KEYWORDS is a comma-separated list of
// words, matched case-insensitively, at least one of which must occur in
// the text for the rule to run ("-" for none); REGEXP is Go (RE2) syntax,
// the rest of the line, and a group named "secret" marks the value to
// replace (otherwise the whole match). An allow line drops every finding,
// of any rule, whose value matches REGEXP, for example a known test key.
//
//	rule acme-token acme_ \bacme_[A-Za-z0-9]{32}\b
//	rule internal-password - (?i)db_pass\s*=\s*(?P<secret>\S+)
//	allow ^AKIAIOSFODNN7EXAMPLE$
func Load(path string) (*Redactor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("redaction rules: %w", err)
	}
	defer f.Close()
	var extra []rule
	var allow []*regexp.Regexp
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		where := fmt.Sprintf("%s:%d", path, n)
		directive, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch directive {
		case "rule":
			fields := strings.SplitN(rest, " ", 3)
			if len(fields) != 3 {
				return nil, fmt.Errorf("%s: want \"rule KIND KEYWORDS REGEXP\"", where)
			}
			kind, kw, expr := fields[0], fields[1], strings.TrimSpace(fields[2])
			if !kindRe.MatchString(kind) {
				return nil, fmt.Errorf("%s: kind %q must be lower-kebab-case, like acme-token", where, kind)
			}
			ru := rule{kind: kind, expr: expr, trusted: true}
			if err := ru.compile(); err != nil {
				return nil, fmt.Errorf("%s: %v", where, err)
			}
			var keywords []string
			if kw != "-" {
				for _, k := range strings.Split(kw, ",") {
					if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
						keywords = append(keywords, k)
					}
				}
			}
			ru.keywords = keywords
			extra = append(extra, ru)
		case "allow":
			re, err := regexp.Compile(rest)
			if rest == "" || err != nil {
				return nil, fmt.Errorf("%s: want \"allow REGEXP\" with a valid Go regexp: %v", where, err)
			}
			allow = append(allow, re)
		default:
			return nil, fmt.Errorf("%s: unknown directive %q; want rule or allow", where, directive)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("redaction rules: %w", err)
	}
	// A user's rules come first: they name what they find.
	r := newRedactor(append(extra, builtin()...))
	r.allow = allow
	return r, nil
}
