package yolo

import (
	"os"
	"path/filepath"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// arg is one shell word as the analysis sees it.
type arg struct {
	val  string // the value when lit; the source text otherwise
	lit  bool   // the value is known before the command runs
	glob bool   // unquoted *, ? or [ remain: the shell expands val as a pattern
	word *syntax.Word
}

// parse parses src as bash, the shell yolo mode runs.
func parse(src string) (*syntax.File, *Refusal) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err != nil {
		return nil, refuse("parse", "the command could not be parsed as a shell command (%v); fix the syntax", err)
	}
	return f, nil
}

// source prints a node back as shell text, for messages.
func source(n syntax.Node) string {
	var b strings.Builder
	if err := syntax.NewPrinter().Print(&b, n); err != nil {
		return "?"
	}
	return b.String()
}

// wordArg turns w into an arg: quotes removed and backslashes applied, a
// leading unquoted ~ expanded to home. Anything the shell computes at run
// time (parameters, command and arithmetic substitution, $'...', brace
// expansion, ~user) makes the arg non-literal.
func wordArg(w *syntax.Word, home string) arg {
	a := arg{lit: true, word: w}
	var b strings.Builder
	for i, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			v, glob, brace := unescape(p.Value, false)
			if brace {
				a.lit = false
			}
			a.glob = a.glob || glob
			if i == 0 && !strings.HasPrefix(p.Value, "~") {
				// bash also expands ~ after the = of a word shaped like an
				// assignment, even as an argument: dd of=~/x writes home.
				if name, rest, ok := strings.Cut(v, "="); ok && isName(name) && strings.HasPrefix(rest, "~") {
					user, _, _ := strings.Cut(rest[1:], "/")
					if user != "" || home == "" {
						a.lit = false
					} else {
						v = name + "=" + home + rest[1:]
					}
				}
			}
			if i == 0 && strings.HasPrefix(p.Value, "~") {
				rest := v[1:]
				user, _, _ := strings.Cut(rest, "/")
				if user != "" || home == "" {
					a.lit = false
				} else {
					v = home + rest
				}
			}
			b.WriteString(v)
		case *syntax.SglQuoted:
			if p.Dollar {
				a.lit = false
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			if p.Dollar {
				a.lit = false
			}
			for _, q := range p.Parts {
				l, ok := q.(*syntax.Lit)
				if !ok {
					a.lit = false
					continue
				}
				v, _, _ := unescape(l.Value, true)
				b.WriteString(v)
			}
		default:
			a.lit = false
		}
	}
	if a.lit {
		a.val = b.String()
	} else {
		a.val = source(w)
	}
	return a
}

// unescape applies backslashes in a literal as bash would, outside double
// quotes or inside them, and reports unescaped glob characters and an
// unescaped brace expansion ({a,b} or {1..3}).
func unescape(s string, dq bool) (out string, glob, brace bool) {
	var b strings.Builder
	open, bracket := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			n := s[i+1]
			if !dq || strings.IndexByte("$`\"\\\n", n) >= 0 {
				i++
				if n != '\n' {
					b.WriteByte(n)
				}
				continue
			}
		}
		if !dq {
			switch c {
			case '*', '?':
				glob = true
			case '[':
				bracket = true
			case ']':
				glob = glob || bracket // [ alone is the test command, not a pattern
			case '{':
				open = true
			case ',':
				if open {
					brace = true
				}
			case '.':
				if open && i+1 < len(s) && s[i+1] == '.' {
					brace = true
				}
			}
		}
		b.WriteByte(c)
	}
	return b.String(), glob, brace
}

// resolve makes p absolute against cwd and follows symlinks through the
// longest prefix that exists, the way the kernel would when the command
// opens it; the rest is cleaned lexically.
func resolve(p, cwd string) string { return resolveN(p, cwd, 0) }

func resolveN(p, cwd string, depth int) string {
	if !filepath.IsAbs(p) {
		p = cwd + "/" + p
	}
	parts := strings.Split(p, "/")
	prefix := func(n int) string {
		if n <= 1 {
			return "/"
		}
		return strings.Join(parts[:n], "/")
	}
	// A path resolves only if each of its prefixes does, so the longest
	// prefix that resolves can be found by binary search: a long path
	// costs log(n) resolutions, not n.
	lo, hi := 1, len(parts) // prefix(lo) ("/") resolves; find the largest
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if _, err := filepath.EvalSymlinks(prefix(mid)); err == nil {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	n := lo
	if real, err := filepath.EvalSymlinks(prefix(n)); err == nil {
		// A dangling symlink next: writing through it creates its target.
		if n < len(parts) && depth < 40 {
			next := filepath.Join(real, parts[n])
			if fi, err := os.Lstat(next); err == nil && fi.Mode()&os.ModeSymlink != 0 {
				if t, err := os.Readlink(next); err == nil {
					return resolveN(t+"/"+strings.Join(parts[n+1:], "/"), real, depth+1)
				}
			}
		}
		return filepath.Clean(real + "/" + strings.Join(parts[n:], "/"))
	}
	return filepath.Clean(p)
}

// globBase is the directory a glob pattern can match in: the part before
// the first wildcard, up to its last slash ("/*" is "/", "build/*.o" is
// "build", "*" is ".").
func globBase(p string) string {
	i := strings.IndexAny(p, "*?[")
	if i < 0 {
		return p
	}
	j := strings.LastIndexByte(p[:i], '/')
	switch {
	case j < 0:
		return "."
	case j == 0:
		return "/"
	}
	return p[:j]
}

// isName reports whether s is a shell variable name.
func isName(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}
