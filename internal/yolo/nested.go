package yolo

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Nested scripts: text a program runs as shell code (eval, sh -c, trap,
// watch, a heredoc fed to a shell) is analysed like the outer command;
// scripts the analysis cannot see (a pipe, a computed path, another file
// descriptor) are refused.

// watch, flock -c, sh -c).
func (a *analyzer) nested(name string, words []arg, st *state, depth int) *Refusal {
	var parts []string
	for _, w := range words {
		if !w.lit {
			if w.word != nil && downloads(w.word) {
				return refuse("download-exec", "%s runs code downloaded by %s; yolo mode never runs downloaded code unseen: download the file, read it, then run it", name, w.val)
			}
			return refuse("dynamic-script", "%s runs %s, a script computed when the command runs, which yolo mode cannot check; write the script literally", name, w.val)
		}
		parts = append(parts, w.val)
	}
	return a.script(strings.Join(parts, " "), st, depth+1)
}

// shell checks sh/bash/...: a -c script is analysed; a script read from a
// pipe, a process substitution or a computed path is refused; a script
// file is allowed unseen (see the package doc).
func (a *analyzer) shell(name string, args []arg, st *state, redirs []*syntax.Redirect, depth int) *Refusal {
	cflag, sflag := false, false
	i := 1
	for ; i < len(args); i++ {
		o := args[i]
		if !o.lit {
			break
		}
		v := o.val
		if v == "--" || v == "-" {
			i++
			break
		}
		if len(v) < 2 || (v[0] != '-' && v[0] != '+') || !optionWord(v) {
			break // the script, or a file: bash would refuse a malformed option anyway
		}
		if v == "-o" || v == "+o" || v == "-O" || v == "+O" || v == "--rcfile" || v == "--init-file" {
			i++
			continue
		}
		if v[1] != '-' && strings.Contains(v[1:], "c") {
			cflag = true
		}
		if v[0] == '-' && v[1] != '-' && strings.Contains(v[1:], "s") {
			sflag = true // the script is stdin; the operands are its arguments
		}
	}
	if cflag {
		if i >= len(args) {
			return nil
		}
		return a.nested(name+" -c", args[i:i+1], st, depth)
	}
	if i < len(args) && !sflag {
		return a.scriptFile(name, args[i], st, redirs, depth)
	}
	return a.stdinScript(name, st, redirs, depth)
}

// stdinScript checks a script a shell or source reads from stdin: a
// literal heredoc or here-string is analysed; a pipe, a computed input or
// an input redirected around a compound command or by exec is refused;
// /dev/null (the default) is fine.
func (a *analyzer) stdinScript(name string, st *state, redirs []*syntax.Redirect, depth int) *Refusal {
	for _, rd := range redirs {
		switch rd.Op {
		case syntax.Hdoc, syntax.DashHdoc:
			if rd.Hdoc == nil {
				return nil
			}
			return a.nested(name+" <<", []arg{wordArg(rd.Hdoc, "")}, st, depth)
		case syntax.WordHdoc:
			return a.nested(name+" <<<", []arg{wordArg(rd.Word, a.tilde())}, st, depth)
		case syntax.RdrIn, syntax.RdrInOut:
			return a.scriptFile(name+" <", wordArg(rd.Word, a.tilde()), st, nil, depth)
		case syntax.DplIn:
			return refuse("dynamic-script", "%s reads its script from another file descriptor, which yolo mode cannot check; pass the script with %s -c '...'", name, name)
		}
	}
	if st.stdinPipe {
		if st.download {
			return refuse("download-exec", "%s runs a script piped from a download (curl/wget ... | %s); yolo mode never runs downloaded code unseen: download the file, read it, then run it", name, name)
		}
		return refuse("dynamic-script", "%s reads its script from a pipe, which yolo mode cannot check; pass the script with %s -c '...'", name, name)
	}
	if st.stdinOther {
		return refuse("dynamic-script", "%s reads its script from a redirected stdin, which yolo mode cannot check; pass the script with %s -c '...'", name, name)
	}
	return nil
}

// scriptFile checks the script a shell or source reads from a file: a
// literal path is allowed unseen (see the package doc), stdin is checked
// as stdin, other descriptors and computed paths are refused.
func (a *analyzer) scriptFile(name string, f arg, st *state, redirs []*syntax.Redirect, depth int) *Refusal {
	if f.lit {
		switch {
		case f.val == "/dev/stdin" || f.val == "/dev/fd/0" || f.val == "/proc/self/fd/0" || f.val == "-":
			return a.stdinScript(name, st, redirs, depth)
		case strings.HasPrefix(f.val, "/dev/fd/") || strings.HasPrefix(f.val, "/proc/"):
			return refuse("dynamic-script", "%s reads its script from %s, a file descriptor or process file yolo mode cannot check; pass the script with -c '...'", name, f.val)
		}
		return nil
	}
	if f.word != nil && downloads(f.word) {
		return refuse("download-exec", "%s runs code downloaded by %s; yolo mode never runs downloaded code unseen: download the file, read it, then run it", name, f.val)
	}
	return refuse("dynamic-script", "%s runs the script %s, which is computed when the command runs and cannot be checked; name a script file literally", name, f.val)
}

// interpreter refuses python/perl/... running downloaded code: code piped
// from a download, or a -c/-e argument or script built from one.
func (a *analyzer) interpreter(name string, args []arg, st *state) *Refusal {
	for _, o := range args[1:] {
		if !o.lit && o.word != nil && downloads(o.word) {
			return refuse("download-exec", "%s runs code downloaded by %s; yolo mode never runs downloaded code unseen: download the file, read it, then run it", name, o.val)
		}
	}
	if st.stdinPipe && st.download {
		return refuse("download-exec", "%s reads a program piped from a download; yolo mode never runs downloaded code unseen: download the file, read it, then run it", name)
	}
	return nil
}

// optionWord reports whether v looks like a shell option cluster (-ex,
// +o, --norc) rather than a script that starts with - or +.
func optionWord(v string) bool {
	for _, c := range strings.TrimLeft(v, "-+") {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}
