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
