package lease

import (
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	ok := map[string]string{
		"src/auth/**":       "src/auth/**",
		"./src//auth/":      "src/auth",
		`src\auth\login.go`: "src/auth/login.go",
		"a/./b/*.go":        "a/b/*.go",
		"**/*_test.go":      "**/*_test.go",
	}
	for in, want := range ok {
		if got, err := Clean(in); err != nil || got != want {
			t.Errorf("Clean(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                             "empty",
		"   ":                          "empty",
		"/etc/passwd":                  "absolute",
		`C:\repo\x`:                    "absolute",
		"../other/x":                   "'..'",
		"src/../../x":                  "'..'",
		"src/..":                       "'..'",
		".":                            "root",
		"./":                           "root",
		"src/a**b":                     "whole segment",
		"src/[ab":                      "not a valid pattern",
		strings.Repeat("a", 600):       "at most 512",
		strings.Repeat("a/", 70) + "b": "segments",
		"a\x00b":                       "valid text",
	}
	for in, want := range bad {
		if _, err := Clean(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Clean(%q) = %v; want an error saying %q", in, err, want)
		}
	}
}

func TestCovers(t *testing.T) {
	for _, c := range []struct {
		pattern, file string
		want          bool
	}{
		{"src/auth", "src/auth/login.go", true},
		{"src/auth", "src/authz/x.go", false},
		{"src/auth/**", "src/auth/a/b/c.go", true},
		{"src/auth/**", "src/auth", true},
		{"src/*.go", "src/main.go", true},
		{"src/*.go", "src/sub/main.go", false},
		{"**/*_test.go", "a/b/x_test.go", true},
		{"**/*_test.go", "x_test.go", true},
		{"**/*_test.go", "a/b/x.go", false},
		{"a/**/z", "a/z", true},
		{"a/**/z", "a/b/c/z/file", true},
		{"README.md", "README.md", true},
		{"README.md", "docs/README.md", false},
	} {
		if got := Covers(c.pattern, c.file); got != c.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", c.pattern, c.file, got, c.want)
		}
	}
}

func TestOverlap(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"src/auth", "src/auth/login.go", true},
		{"src/auth/**", "src/**/*.go", true},
		{"src/auth/**", "src/authz/**", false},
		{"src/auth", "src/authz", false},
		{"docs/*.md", "src/*.go", false},
		{"*.go", "*.md", false},
		{"*.go", "main.*", true},
		{"a/b/c", "a/*/c", true},
		{"a/b/c", "a/*/d", false},
		{"**", "anything/at/all", true},
		{"x/[ab].go", "x/c.go", false},
		{"x/[ab].go", "x/a.go", true},
		{"**/gen/*.pb.go", "api/**", true},
		{"a/**/b/**/c", "a/x/y", true},
	} {
		if got := Overlap(c.a, c.b); got != c.want {
			t.Errorf("Overlap(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := Overlap(c.b, c.a); got != c.want {
			t.Errorf("Overlap(%q, %q) = %v, want %v (not symmetric)", c.b, c.a, got, c.want)
		}
	}
}

// Overlap never says false for two patterns that cover the same file.
func FuzzOverlapIsSafe(f *testing.F) {
	f.Add("src/auth/**", "src/**/*.go", "src/auth/x.go")
	f.Add("*.go", "main.*", "main.go")
	f.Add("a/**/z", "a/b/*", "a/b/z")
	f.Add("x/[ab]*", "x/*c", "x/bc")
	f.Fuzz(func(t *testing.T, a, b, file string) {
		ca, err1 := Clean(a)
		cb, err2 := Clean(b)
		cf, err3 := Clean(file)
		if err1 != nil || err2 != nil || err3 != nil || strings.ContainsAny(cf, "*?[\\") {
			return
		}
		if Covers(ca, cf) && Covers(cb, cf) && !Overlap(ca, cb) {
			t.Fatalf("%q and %q both cover %q, but Overlap says no", ca, cb, cf)
		}
	})
}

// A pattern of many '**' segments, which an agent may choose, is matched
// in polynomial time: a naive backtracking matcher never finishes this one
// (the guard hook would hang every commit).
func TestCoversManyDoubleStars(t *testing.T) {
	p := strings.Repeat("**/a/", 30) + "b"
	if Covers(p, strings.Repeat("a/", 60)+"c") {
		t.Fatal("covers a file without the final segment b")
	}
	if !Covers(p, strings.Repeat("a/", 30)+"b/x") {
		t.Fatal("does not cover a file below a matching path")
	}
}

func BenchmarkCoversManyDoubleStars(b *testing.B) {
	p, f := strings.Repeat("**/a/", 30)+"b", strings.Repeat("a/", 60)+"c"
	for b.Loop() {
		Covers(p, f)
	}
}

// Letter case does not separate files: on macOS and Windows README.md and
// readme.md are one file.
func TestCaseDoesNotSeparateFiles(t *testing.T) {
	if !Covers("src/Auth/**", "src/auth/login.go") || !Covers("README.md", "readme.md") {
		t.Error("Covers tells paths apart by case")
	}
	if !Overlap("src/AUTH/**", "src/auth/login.go") || !Overlap("Docs/*.MD", "docs/guide.md") {
		t.Error("Overlap tells patterns apart by case")
	}
	if Overlap("src/auth/**", "src/authz/**") {
		t.Error("case folding made src/auth overlap src/authz")
	}
}
