package yolo

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"mvdan.cc/sh/v3/syntax"
)

const noShell = "safe and restricted mode run one program directly, without a shell, so pipes, " +
	"redirections, ;, &&, ||, variables ($VAR), command substitution ($(...) and backticks), " +
	"unquoted globs, brace expansion and ~ are not available: run one command with literal arguments " +
	"(quote an argument with ' or \" to pass * or spaces), or ask the operator for yolo mode"

// safePrograms are the read-only programs safe mode runs, each with the
// check of its arguments beyond the workspace path rule.
var safePrograms = map[string]func(argv []string) *Refusal{
	"ls": nil, "cat": nil, "head": nil, "tail": nil, "wc": nil, "stat": nil, "du": nil,
	"pwd": nil, "echo": nil, "cut": nil, "cmp": nil, "basename": nil, "dirname": nil,
	"realpath": nil, "md5sum": nil, "sha1sum": nil, "sha256sum": nil, "true": nil, "false": nil,
	"diff": nil, "grep": nil, "egrep": nil, "fgrep": nil,
	"rg":   refuseFlags("rg", "--pre", "runs a program on every file"),
	"sort": refuseFlags("sort", "-o", "writes a file", "--output", "writes a file", "--compress-program", "runs a program"),
	"file": refuseFlags("file", "-C", "writes a magic file", "--compile", "writes a magic file"),
	"tree": refuseFlags("tree", "-o", "writes a file", "-R", "writes 00Tree.html files"),
	"find": checkFind,
	"uniq": checkUniq,
	"git":  checkGit,
	"go":   checkGo,
}

// refuseFlags refuses the given flags (pairs of flag and why), alone, as
// --flag=value or with a glued value.
func refuseFlags(prog string, pairs ...string) func([]string) *Refusal {
	return func(argv []string) *Refusal {
		for _, a := range argv[1:] {
			if a == "--" {
				break
			}
			for i := 0; i < len(pairs); i += 2 {
				f := pairs[i]
				if a == f || strings.HasPrefix(a, f+"=") || (len(f) == 2 && !strings.HasPrefix(a, "--") && strings.HasPrefix(a, "-") && strings.Contains(a[1:], f[1:])) {
					return refuse("not-read-only", "%s %s %s, which safe mode does not allow; leave it out", prog, f, pairs[i+1])
				}
			}
		}
		return nil
	}
}

func checkFind(argv []string) *Refusal {
	for _, a := range argv[1:] {
		switch a {
		case "-exec", "-execdir", "-ok", "-okdir":
			return refuse("not-read-only", "find %s runs other programs, which safe mode does not allow; use find to list files and run the next command separately", a)
		case "-delete", "-fprint", "-fprint0", "-fprintf", "-fls":
			return refuse("not-read-only", "find %s deletes or writes files, which safe mode does not allow", a)
		}
	}
	return nil
}

func checkUniq(argv []string) *Refusal {
	n := 0
	for _, a := range argv[1:] {
		if !strings.HasPrefix(a, "-") || a == "-" {
			n++
		}
	}
	if n > 1 {
		return refuse("not-read-only", "uniq with a second file operand writes to it, which safe mode does not allow; give one input file")
	}
	return nil
}

// gitRead are the git subcommands safe mode runs.
var gitRead = map[string]bool{"status": true, "diff": true, "log": true, "show": true, "branch": true, "rev-parse": true}

// gitNeutral goes before every git subcommand: no pager, and repository
// configuration that would run a program (fsmonitor, external diff, hooks,
// pagers, signature checks through gpg) switched off.
var gitNeutral = []string{"--no-pager", "-c", "core.fsmonitor=", "-c", "core.pager=cat", "-c", "diff.external=",
	"-c", "core.hooksPath=/dev/null", "-c", "log.showSignature=false", "-c", "core.sshCommand=false",
	"-c", "protocol.allow=never", "-c", "core.askPass=false", "-c", "credential.helper="}

// gitArgv checks git's global options and returns argv with the neutralising
// options inserted.
func gitArgv(argv []string) ([]string, *Refusal) {
	for _, a := range argv[1:] {
		if !strings.HasPrefix(a, "-") {
			break
		}
		for _, f := range []string{"-c", "--config-env", "--exec-path", "--upload-pack", "--receive-pack", "--git-dir", "--work-tree", "--namespace", "-p", "--paginate", "--super-prefix", "--list-cmds"} {
			if a == f || strings.HasPrefix(a, f+"=") {
				return nil, refuse("git-option", "git %s changes which configuration, programs or repository git uses; leave it out (use git -C DIR to pick a repository in the workspace)", f)
			}
		}
	}
	out := append([]string{argv[0]}, gitNeutral...)
	return append(out, argv[1:]...), nil
}

func checkGit(argv []string) *Refusal {
	sub, rest := "", []string(nil)
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if a == "-C" {
			i++
			continue
		}
		if strings.HasPrefix(a, "-") {
			continue
		}
		sub, rest = a, argv[i+1:]
		break
	}
	if !gitRead[sub] {
		return refuse("not-allowed", "git %q is not one of the read-only git commands safe mode runs (%s)", sub, strings.Join(sortedKeys(gitRead), ", "))
	}
	for _, a := range rest {
		if a == "--" {
			break
		}
		for _, f := range []string{"--output", "--ext-diff", "--textconv", "--show-signature"} {
			if a == f || strings.HasPrefix(a, f+"=") {
				return refuse("not-read-only", "git %s %s writes a file or runs a program; leave it out", sub, f)
			}
		}
		if sub == "branch" {
			switch a {
			case "-d", "-D", "--delete", "-m", "-M", "--move", "-c", "-C", "--copy", "-f", "--force",
				"-u", "--unset-upstream", "--edit-description", "-t", "--track", "--no-track", "--set-upstream-to":
				return refuse("not-read-only", "git branch %s changes branches; safe mode only lists them", a)
			}
			if strings.HasPrefix(a, "--set-upstream-to=") || strings.HasPrefix(a, "--track=") {
				return refuse("not-read-only", "git branch %s changes branches; safe mode only lists them", a)
			}
		}
	}
	if sub == "branch" && !containsAny(rest, "--list", "-l", "-a", "-r", "--all", "--remotes", "--contains", "--no-contains", "--merged", "--no-merged", "--points-at") {
		for _, a := range rest {
			if !strings.HasPrefix(a, "-") {
				return refuse("not-read-only", "git branch %s would create a branch; safe mode only lists them (git branch --list PATTERN)", a)
			}
		}
	}
	return nil
}

// gitSafeArgs is appended to diff, log and show so that diff drivers and
// textconv filters from .gitattributes and repository config do not run.
func gitSafeArgs(argv []string) []string {
	// argv already has gitNeutral; find the subcommand after it.
	for i := 1 + len(gitNeutral); i < len(argv); i++ {
		a := argv[i]
		if a == "-C" {
			i++
			continue
		}
		if strings.HasPrefix(a, "-") {
			continue
		}
		if a == "diff" || a == "log" || a == "show" {
			out := append([]string{}, argv[:i+1]...)
			out = append(out, "--no-ext-diff", "--no-textconv")
			return append(out, argv[i+1:]...)
		}
		break
	}
	return argv
}

func checkGo(argv []string) *Refusal {
	sub := ""
	if len(argv) > 1 {
		sub = argv[1]
	}
	switch sub {
	case "test", "vet", "build":
	default:
		return refuse("not-allowed", "go %q is not allowed in safe mode; it runs go test, go vet and go build", sub)
	}
	for _, a := range argv[2:] {
		for _, f := range []string{"-exec", "-toolexec", "-vettool", "--exec", "--toolexec", "--vettool"} {
			if a == f || strings.HasPrefix(a, f+"=") {
				return refuse("not-read-only", "go %s %s runs an arbitrary program; leave it out", sub, f)
			}
		}
	}
	return nil
}

func containsAny(list []string, vals ...string) bool {
	for _, a := range list {
		for _, v := range vals {
			if a == v {
				return true
			}
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// splitArgv parses text as one simple command whose words are all literal.
func splitArgv(text string) ([]string, *Refusal) {
	f, r := parse(text)
	if r != nil {
		return nil, r
	}
	if len(f.Stmts) != 1 {
		return nil, refuse("shell-syntax", "%d commands given (; or a newline); %s", len(f.Stmts), noShell)
	}
	s := f.Stmts[0]
	if s.Background || s.Negated || s.Coprocess || s.Disown || len(s.Redirs) > 0 {
		return nil, refuse("shell-syntax", "the command uses &, ! or a redirection; %s", noShell)
	}
	ce, ok := s.Cmd.(*syntax.CallExpr)
	if !ok || len(ce.Args) == 0 {
		return nil, refuse("shell-syntax", "the command is not a simple command (it uses a pipe, &&, ||, a subshell, a function or a shell keyword); %s", noShell)
	}
	if len(ce.Assigns) > 0 {
		return nil, refuse("shell-syntax", "the command starts with a variable assignment; %s", noShell)
	}
	argv := make([]string, 0, len(ce.Args))
	for _, w := range ce.Args {
		a := wordArg(w, "")
		if !a.lit {
			return nil, refuse("shell-syntax", "the argument %s is expanded by a shell; %s", a.val, noShell)
		}
		if a.glob {
			return nil, refuse("shell-syntax", "the argument %s is an unquoted glob; %s", a.val, noShell)
		}
		argv = append(argv, a.val)
	}
	return argv, nil
}

// pathExempt reports whether argv[i] is text rather than a file: echo's
// arguments, and the pattern of grep and rg (the first operand, or the
// value of -e / --regexp).
func pathExempt(argv []string, i int) bool {
	prog := argv[0]
	switch prog {
	case "echo":
		return true
	case "grep", "egrep", "fgrep", "rg":
		prev := argv[i-1]
		if prev == "-e" || prev == "--regexp" {
			return true
		}
		if strings.HasPrefix(argv[i], "-e") || strings.HasPrefix(argv[i], "--regexp=") {
			return true
		}
		for j := 1; j < i; j++ {
			a := argv[j]
			if a == "-e" || a == "--regexp" || strings.HasPrefix(a, "-e") && !strings.HasPrefix(a, "--") || strings.HasPrefix(a, "--regexp=") ||
				a == "-f" || a == "--file" || strings.HasPrefix(a, "--file=") {
				return false // patterns come from options; operands are files
			}
		}
		for j := 1; j < i; j++ {
			if !strings.HasPrefix(argv[j], "-") {
				return false // an earlier operand was the pattern
			}
		}
		return !strings.HasPrefix(argv[i], "-")
	}
	return false
}

// pathCandidates are the parts of an argument that may name a file: the
// argument, the value of --flag=value, the glued value of -Xvalue.
func pathCandidates(a string) []string {
	if !strings.HasPrefix(a, "-") || a == "-" {
		return []string{a}
	}
	if _, v, ok := strings.Cut(a, "="); ok {
		return []string{v}
	}
	if !strings.HasPrefix(a, "--") && len(a) > 2 {
		return []string{a[2:]}
	}
	return nil
}

// checkPaths refuses an argument naming a file outside the workspace.
func checkPaths(argv []string, ws string) *Refusal {
	for i := 1; i < len(argv); i++ {
		if pathExempt(argv, i) {
			continue
		}
		for _, c := range pathCandidates(argv[i]) {
			if c == "" {
				continue
			}
			if r := resolve(c, ws); !within(r, ws) {
				return refuse("outside-workspace", "argument %q refers to %s, outside the workspace %s (absolute paths, .. and symlinks are followed); use paths inside the workspace", argv[i], r, ws)
			}
		}
	}
	return nil
}

// checkArgv is Check for safe and restricted mode.
func checkArgv(mode Mode, text, ws string, p Policy) (Plan, error) {
	argv, r := splitArgv(text)
	if r != nil {
		return Plan{}, r
	}
	prog := argv[0]
	if strings.Contains(prog, "/") {
		return Plan{}, refuse("program-path", "program %q is a path; name the program (it is looked up in PATH), e.g. %s", prog, filepath.Base(prog))
	}
	if prog == "git" {
		if _, r := gitArgv(argv); r != nil {
			return Plan{}, r
		}
	}
	if mode == Restricted {
		if pat := matchAny(p.Deny, argv); pat != "" {
			return Plan{}, refuse("policy-deny", "the operator's deny pattern %q matches this command", pat)
		}
	}
	allowed := mode == Restricted && matchAny(p.Allow, argv) != ""
	if !allowed {
		check, ok := safePrograms[prog]
		if !ok {
			msg := "program %q is not in the read-only allowlist (%s)"
			if mode == Restricted {
				msg += " and matches no allow pattern of the operator (%s)"
				return Plan{}, refuse("not-allowed", msg, prog, strings.Join(sortedKeys(safePrograms), ", "), strings.Join(p.Allow, "; "))
			}
			return Plan{}, refuse("not-allowed", msg+"; ask the operator for restricted mode with an allow pattern, or yolo mode", prog, strings.Join(sortedKeys(safePrograms), ", "))
		}
		if check != nil {
			if r := check(argv); r != nil {
				return Plan{}, r
			}
		}
	}
	if r := checkPaths(argv, ws); r != nil {
		return Plan{}, r
	}
	if mode == Restricted {
		// The hard deny list holds whatever the allow patterns say.
		a := newAnalyzer(ws, p)
		args := make([]arg, len(argv))
		for i, v := range argv {
			args[i] = arg{val: v, lit: true}
		}
		if r := a.command(args, &state{cwd: ws}, nil, 0); r != nil {
			return Plan{}, r
		}
	}
	run := argv
	if prog == "git" {
		var r *Refusal
		if run, r = gitArgv(argv); r != nil {
			return Plan{}, r
		}
		run = gitSafeArgs(run)
		off, r := gitFiltersOff(ws, argv)
		if r != nil {
			return Plan{}, r
		}
		run = append(append([]string{run[0]}, off...), run[1:]...)
	}
	return Plan{Mode: mode, Text: text, Argv: run, Program: prog}, nil
}

// gitFiltersOff returns -c options that switch off every clean, smudge and
// process filter the repository's configuration defines. git status and
// git diff run those filters on changed files (a .gitattributes line
// assigns them), and no command-line flag disables them wholesale; the
// names are read with git config, which runs nothing.
func gitFiltersOff(ws string, argv []string) ([]string, *Refusal) {
	var dirs []string
	for i := 1; i < len(argv); i++ {
		if (argv[i] == "-C" || argv[i] == "-c") && i+1 < len(argv) {
			if argv[i] == "-C" {
				dirs = append(dirs, "-C", argv[i+1])
			}
			i++
			continue
		}
		if !strings.HasPrefix(argv[i], "-") {
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", append(dirs, "config", "--name-only", "--get-regexp", `^filter\.`)...)
	cmd.Dir = ws
	cmd.Env = ScrubbedEnv()
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
			return nil, nil // no filter configured
		}
		if errors.Is(err, exec.ErrNotFound) {
			return nil, nil // Run will say git is missing
		}
		return nil, refuse("git-config", "reading the repository's filter configuration failed (%v); fix the repository or run git from yolo mode", err)
	}
	seen := map[string]bool{}
	var off []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		i, j := strings.IndexByte(line, '.'), strings.LastIndexByte(line, '.')
		if i < 0 || j <= i {
			continue
		}
		name := line[i+1 : j]
		if strings.Contains(name, "=") {
			return nil, refuse("git-config", "the repository configures a filter named %q, which cannot be switched off from the command line; safe mode refuses git here", name)
		}
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		for _, k := range []string{"clean", "smudge", "process"} {
			off = append(off, "-c", "filter."+name+"."+k+"=")
		}
		off = append(off, "-c", "filter."+name+".required=false")
	}
	return off, nil
}
