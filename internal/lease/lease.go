// Package lease decides which repository paths a file lease covers, and
// whether two leases can cover the same path.
//
// A pattern is a path relative to the repository root, with '/' between
// segments, in which '*', '?' and '[...]' match within one segment (as
// path.Match) and a whole segment '**' matches any number of segments. A
// pattern also covers everything below what it matches: leasing src/auth
// leases every file in it. Patterns are compared after cleaning, segment
// by segment, never by string prefix, so src/auth does not cover
// src/authz, and without regard to letter case: on macOS and Windows
// README.md and readme.md are one file, and a lease must not let two
// writers at it (on Linux this can refuse a lease or a commit for two
// names that differ only in case; a person can override the guard). The
// package is pure: the store keeps leases, the service decides conflicts
// with Overlap.
package lease

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// Limits on a pattern.
const (
	MaxLen      = 512 // bytes
	MaxSegments = 64
)

// Clean returns p as a canonical pattern, or an error saying what to fix.
// Backslashes are read as '/', so a Windows path works; the result never
// starts with '/', never contains '.' or '..' segments, and ends without a
// slash.
func Clean(p string) (string, error) {
	switch {
	case strings.TrimSpace(p) == "":
		return "", errors.New("is empty: give a path relative to the repository root, e.g. src/auth/** or README.md")
	case len(p) > MaxLen:
		return "", fmt.Errorf("is %d bytes; a lease pattern may be at most %d", len(p), MaxLen)
	case !utf8.ValidString(p) || strings.ContainsRune(p, 0):
		return "", errors.New("is not valid text")
	}
	q := strings.ReplaceAll(p, `\`, "/")
	if strings.HasPrefix(q, "/") || (len(q) >= 2 && q[1] == ':') {
		return "", fmt.Errorf("%q is absolute: give it relative to the repository root (e.g. src/auth/** rather than /home/me/repo/src/auth/**)", p)
	}
	for _, seg := range strings.Split(q, "/") {
		if seg == ".." {
			return "", fmt.Errorf("%q leaves the repository through '..': name a path inside it", p)
		}
	}
	q = path.Clean(q)
	if q == "." {
		return "", fmt.Errorf("%q names the repository root: lease the paths you will change, e.g. src/** for everything under src", p)
	}
	segs := strings.Split(q, "/")
	if len(segs) > MaxSegments {
		return "", fmt.Errorf("has %d segments; at most %d", len(segs), MaxSegments)
	}
	for _, seg := range segs {
		if seg == "**" {
			continue
		}
		if strings.Contains(seg, "**") {
			return "", fmt.Errorf("%q: '**' must be a whole segment (a/**/b), not part of one (%s)", p, seg)
		}
		if _, err := path.Match(seg, ""); err != nil {
			return "", fmt.Errorf("%q: segment %q is not a valid pattern (check its [ ] brackets)", p, seg)
		}
	}
	return q, nil
}

// Covers reports whether the cleaned pattern covers the cleaned,
// repository-relative file path.
func Covers(pattern, file string) bool {
	ps, fs := strings.Split(strings.ToLower(pattern), "/"), strings.Split(strings.ToLower(file), "/")
	// Memoised on (pattern segment, file segment): a pattern of many '**'
	// segments (an agent chooses it) costs at most len(ps)*len(fs) steps,
	// never the exponential backtracking of a naive matcher.
	memo := make(map[[2]int]bool)
	var rec func(i, j int) bool
	rec = func(i, j int) bool {
		if i == len(ps) {
			return true // the pattern matched a directory the file is in, or the file
		}
		k := [2]int{i, j}
		if v, ok := memo[k]; ok {
			return v
		}
		var r bool
		switch {
		case ps[i] == "**":
			r = rec(i+1, j) || (j < len(fs) && rec(i, j+1))
		case j == len(fs):
			r = false
		default:
			ok, _ := path.Match(ps[i], fs[j])
			r = ok && rec(i+1, j+1)
		}
		memo[k] = r
		return r
	}
	return rec(0, 0)
}

// Overlap reports whether some file could be covered by both cleaned
// patterns. It may say true for two patterns that cannot both match (two
// wildcard segments whose literal parts agree), never false for two that
// can: a lease is refused rather than risk two writers on one file.
func Overlap(a, b string) bool {
	as, bs := strings.Split(strings.ToLower(a), "/"), strings.Split(strings.ToLower(b), "/")
	memo := map[[2]int]bool{}
	var rec func(i, j int) bool
	rec = func(i, j int) bool {
		if i == len(as) || j == len(bs) {
			return true // one covers everything below where the other is
		}
		k := [2]int{i, j}
		if v, ok := memo[k]; ok {
			return v
		}
		var r bool
		switch {
		case as[i] == "**":
			r = rec(i+1, j) || rec(i, j+1)
		case bs[j] == "**":
			r = rec(i, j+1) || rec(i+1, j)
		default:
			r = segmentsOverlap(as[i], bs[j]) && rec(i+1, j+1)
		}
		memo[k] = r
		return r
	}
	return rec(0, 0)
}

const meta = `*?[\`

// segmentsOverlap reports whether some name matches both segments.
func segmentsOverlap(x, y string) bool {
	xm, ym := strings.ContainsAny(x, meta), strings.ContainsAny(y, meta)
	switch {
	case !xm && !ym:
		return x == y
	case !ym:
		ok, _ := path.Match(x, y)
		return ok
	case !xm:
		ok, _ := path.Match(y, x)
		return ok
	}
	// Both wildcards: compatible literal prefixes and suffixes.
	xp, xs := literalEnds(x)
	yp, ys := literalEnds(y)
	return (strings.HasPrefix(xp, yp) || strings.HasPrefix(yp, xp)) &&
		(strings.HasSuffix(xs, ys) || strings.HasSuffix(ys, xs))
}

// literalEnds returns the literal text before the first and after the last
// wildcard of a segment.
func literalEnds(s string) (prefix, suffix string) {
	i := strings.IndexAny(s, meta)
	j := strings.LastIndexAny(s, meta)
	prefix, suffix = s[:i], s[j+1:]
	if s[j] == '[' || strings.Contains(s[i:], "]") {
		// A class ends in ']': what follows it is the literal suffix.
		if k := strings.LastIndex(s, "]"); k >= j {
			suffix = s[k+1:]
		}
	}
	return prefix, suffix
}
