package bridge

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// storable reports why v cannot be stored as text on every store, or ""
// when it can: it must be valid UTF-8 without NUL characters, which
// PostgreSQL's text type refuses (SQLite would keep them), so both stores
// accept exactly the same texts.
func storable(v string) string {
	switch {
	case !utf8.ValidString(v):
		return "is not valid UTF-8 text"
	case strings.IndexByte(v, 0) >= 0:
		return "contains a NUL character (U+0000), which cannot be stored; remove it"
	}
	return ""
}

// Quantity writes n with its noun, singular or plural: "1 lease", "2
// leases". The noun's plural is the noun and "s".
func Quantity(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
