package yolo

import (
	"path"
	"strings"
)

// matchPattern reports whether argv matches pattern (syntax in Policy's doc).
// The program word is compared with argv[0]'s base name.
func matchPattern(pattern string, argv []string) bool {
	words := strings.Fields(pattern)
	if len(words) == 0 || len(argv) == 0 {
		return false
	}
	args := append([]string{path.Base(argv[0])}, argv[1:]...)
	for i, w := range words {
		if w == "*" && i == len(words)-1 {
			return len(args) >= i
		}
		if i >= len(args) {
			return false
		}
		if !wildcard(w, args[i]) {
			return false
		}
	}
	return len(args) == len(words)
}

// matchAny returns the first pattern of pats that argv matches, or "".
func matchAny(pats []string, argv []string) string {
	for _, p := range pats {
		if matchPattern(p, argv) {
			return p
		}
	}
	return ""
}

// wildcard matches s against w, where "*" in w is any run of characters
// (slashes included) and "?" any one character; everything else is literal.
func wildcard(w, s string) bool {
	if w == "" {
		return s == ""
	}
	switch w[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if wildcard(w[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && wildcard(w[1:], s[1:])
	}
	return s != "" && s[0] == w[0] && wildcard(w[1:], s[1:])
}
