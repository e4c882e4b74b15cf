package yolo

import (
	"strings"
	"testing"
)

// Issue 13, finding 3: safe mode matched refused options by their full
// spelling, so GNU's abbreviations (sort --compress=sh ran a shell, sort
// --out=F wrote) and clusters got through. Options are now parsed the way
// each program parses them and anything not known read-only is refused.
// Every allowed program has rows here: its dangerous options in every
// spelling the program accepts, and ordinary uses that must still run.
var optionCases = map[string]struct{ refused, allowed []string }{
	"sort": {
		refused: []string{"sort --compress-program=sh src/main.go", "sort --compress=sh src/main.go", "sort --comp sh src/main.go",
			"sort --c=sh src/main.go", "sort --output=F src/main.go", "sort --out=F src/main.go", "sort --o F src/main.go",
			"sort -o F src/main.go", "sort -oF src/main.go", "sort -uo F src/main.go", "sort -ruoF src/main.go",
			"sort -T build src/main.go", "sort --temp=build src/main.go", "sort --files0-from=list", "sort --files0=list",
			"sort --zzz src/main.go"},
		allowed: []string{"sort src/main.go", "sort -u -k2,2 -t, src/main.go", "sort -rn src/main.go", "sort --reverse --numeric src/main.go",
			"sort -- -o"},
	},
	"rg": {
		refused: []string{"rg --pre=sh x", "rg --pre sh x", "rg '--pre-glob=*' --pre=sh x", "rg -z x", "rg --search-zip x", "rg --search x", "rg --zzz x"},
		allowed: []string{"rg -n main", "rg -i -g '*.go' main src"},
	},
	"file": {
		refused: []string{"file -C", "file --compile", "file --comp", "file -bC", "file -f list", "file --files-from=list"},
		allowed: []string{"file src/main.go", "file -b --mime-type src/main.go"},
	},
	"tree": {
		refused: []string{"tree -o out.html", "tree -R", "tree -aLo 2 out.html", "tree -Lo 2 out.html", "tree --fromfile", "tree -H x"},
		allowed: []string{"tree", "tree -L 2 src", "tree -a -I build"},
	},
	"find": {
		refused: []string{"find . -exec rm {} ;", "find . -execdir sh ;", "find . -ok rm {} ;", "find . -okdir rm {} ;", "find . -delete",
			"find . -fprint F", "find . -fprint0 F", "find . -fprintf F %p", "find . -fls F", "find . -files0-from list", "find . -zzz"},
		allowed: []string{"find . -name '*.go' -type f", "find src -maxdepth 1 -print", "find . '(' -name a -o -name b ')' -printf %p"},
	},
	"uniq":      {refused: []string{"uniq src/main.go out", "uniq -c src/main.go out", "uniq --zzz src/main.go"}, allowed: []string{"uniq -c src/main.go"}},
	"wc":        {refused: []string{"wc --files0-from=list", "wc --files0=list", "wc --files list", "wc -x"}, allowed: []string{"wc -l src/main.go"}},
	"du":        {refused: []string{"du --files0-from=list", "du --files0 list", "du --zzz"}, allowed: []string{"du -sh .", "du -a -d 1 src"}},
	"diff":      {refused: []string{"diff -l src/main.go src/main.go", "diff --paginate src/main.go src/main.go", "diff --pag src/main.go src/main.go", "diff -ul src/main.go src/main.go"}, allowed: []string{"diff -u src/main.go src/main.go", "diff -r src build"}},
	"ls":        {refused: []string{"ls --zzz", "ls -Y"}, allowed: []string{"ls -la", "ls -R src", "ls --sort=time"}},
	"cat":       {refused: []string{"cat --zzz src/main.go", "cat -z src/main.go"}, allowed: []string{"cat -n src/main.go"}},
	"head":      {refused: []string{"head --zzz src/main.go"}, allowed: []string{"head -5 src/main.go", "head -n 3 src/main.go", "head --lines=3 src/main.go"}},
	"tail":      {refused: []string{"tail --zzz src/main.go"}, allowed: []string{"tail -n 3 src/main.go", "tail -3 src/main.go"}},
	"stat":      {refused: []string{"stat --zzz src/main.go"}, allowed: []string{"stat -c %s src/main.go", "stat -L src-link"}},
	"cut":       {refused: []string{"cut --zzz src/main.go"}, allowed: []string{"cut -d: -f1 src/main.go"}},
	"cmp":       {refused: []string{"cmp --zzz a b"}, allowed: []string{"cmp -s src/main.go src/main.go"}},
	"pwd":       {refused: []string{"pwd --zzz"}, allowed: []string{"pwd", "pwd -P"}},
	"grep":      {refused: []string{"grep --zzz x src", "grep -Q x src"}, allowed: []string{"grep -rn main src", "grep -e main -e x src/main.go", "grep -3 main src/main.go"}},
	"egrep":     {refused: []string{"egrep --zzz x src"}, allowed: []string{"egrep -c 'a|b' src/main.go"}},
	"fgrep":     {refused: []string{"fgrep --zzz x src"}, allowed: []string{"fgrep -l main src/main.go"}},
	"md5sum":    {refused: []string{"md5sum --zzz src/main.go"}, allowed: []string{"md5sum src/main.go", "md5sum -c sums"}},
	"sha1sum":   {refused: []string{"sha1sum --zzz src/main.go"}, allowed: []string{"sha1sum src/main.go"}},
	"sha256sum": {refused: []string{"sha256sum --zzz src/main.go"}, allowed: []string{"sha256sum --tag src/main.go"}},
	"basename":  {refused: []string{"basename --zzz a"}, allowed: []string{"basename -s .go src/main.go"}},
	"dirname":   {refused: []string{"dirname --zzz a"}, allowed: []string{"dirname src/main.go"}},
	"realpath":  {refused: []string{"realpath --zzz a"}, allowed: []string{"realpath -e src/main.go"}},
	"echo":      {allowed: []string{"echo --output=x -o y"}},
	"true":      {allowed: []string{"true --anything"}},
	"false":     {allowed: []string{"false"}},
	"git": {
		refused: []string{"git log --output=F", "git log --out=F", "git log --outp=F", "git diff --ext-diff", "git diff --ext-d",
			"git show --textconv", "git show --textc", "git log --show-signature", "git log --show-sig", "git log -L1,5:/etc/passwd",
			"git branch -D main", "git branch --del main", "git branch -dr x", "git branch --set-up=origin", "git branch --track x",
			"git branch newbranch", "git -c core.pager=sh log", "git --exec-path=/x log", "git --git-dir=/x log", "git -p log",
			"git --paginate log", "git --bare log", "git status --zzz", "git stash", "git config --list", "git log --zzz"},
		allowed: []string{"git status -sb", "git log --oneline -5", "git log --format=%H%x20%s -n 3", "git log '--format=%G?' -1",
			"git diff --stat", "git diff --cached --name-only", "git show --stat HEAD", "git branch --list", "git branch -a",
			"git branch -l 'feat*'", "git rev-parse --show-toplevel", "git -C src status"},
	},
	"go": {
		refused: []string{"go test -exec=sh ./...", "go test -exec sh ./...", "go test --exec sh ./...", "go build -toolexec=sh ./...",
			"go build -toolexec sh", "go vet -vettool=/bin/sh ./...", "go build -overlay=o.json ./...", "go test -ex=sh ./...",
			"go run .", "go generate ./...", "go test -zzz"},
		allowed: []string{"go test -run TestX -count=1 ./...", "go vet ./...", "go build -o build/app ./src", "go test ./... -v"},
	},
}

func TestSafeOptionsParsedLikeThePrograms(t *testing.T) {
	ws := workspace(t)
	for prog := range safePrograms {
		if _, ok := optionCases[prog]; !ok {
			t.Errorf("safe mode allows %s, which has no row in optionCases: add its dangerous options and their abbreviations", prog)
		}
	}
	for prog, c := range optionCases {
		for _, text := range c.refused {
			_, err := Check(Safe, text, ws, Policy{})
			switch r := rule(err); r {
			case "not-read-only", "unknown-option", "git-option", "not-allowed":
			default:
				t.Errorf("%s: Check(safe, %q) = %q (%v), want it refused for its options", prog, text, r, err)
			}
		}
		for _, text := range c.allowed {
			if _, err := Check(Safe, text, ws, Policy{}); err != nil {
				t.Errorf("%s: Check(safe, %q) refused: %v", prog, text, err)
			}
		}
	}
}

func TestParseOpts(t *testing.T) {
	spec := optSpec{short: "ab:c;", long: "alpha beta= gamma? output= outdent"}
	for _, c := range []struct {
		args []string
		want string // opts as name=value, then | operands
		err  string
	}{
		{[]string{"-ab", "x", "f"}, "-a= -b=x | f", ""},
		{[]string{"-abx", "f"}, "-a= -b=x | f", ""},
		{[]string{"-cV", "-c", "f"}, "-c=V -c= | f", ""},
		{[]string{"--al", "--be=1", "--gam", "f", "--beta", "2"}, "--alpha= --beta=1 --gamma= --beta=2 | f", ""},
		{[]string{"--outp=x"}, "--output=x | ", ""},
		{[]string{"--out=x"}, "", "ambiguous"},
		{[]string{"--alpha=1"}, "", "takes no value"},
		{[]string{"--beta"}, "", "needs a value"},
		{[]string{"-z"}, "", "not one safe mode knows"},
		{[]string{"--", "-a", "--zzz"}, " | -a --zzz", ""},
		{[]string{"-", "f"}, " | - f", ""},
	} {
		p, r := parseOpts("prog", spec, c.args)
		if c.err != "" {
			if r == nil || !strings.Contains(r.Message, c.err) {
				t.Errorf("%q: %v, want a refusal saying %q", c.args, r, c.err)
			}
			continue
		}
		if r != nil {
			t.Errorf("%q: %v", c.args, r)
			continue
		}
		var got []string
		for _, o := range p.opts {
			got = append(got, o.name+"="+o.value)
		}
		if s := strings.Join(got, " ") + " | " + strings.Join(p.operands, " "); s != c.want {
			t.Errorf("%q: %q, want %q", c.args, s, c.want)
		}
	}
}
