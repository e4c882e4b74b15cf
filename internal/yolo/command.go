package yolo

import (
	"path/filepath"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// prefix describes a command that runs another command given in its
// arguments: which of its options take a value, and how many operands come
// before the command.
type prefix struct {
	valueOpts string // space-separated options that take the next argument
	operands  int    // operands before the command (timeout's duration)
}

var prefixes = map[string]prefix{
	"env":         {valueOpts: "-u --unset -C --chdir -S --split-string"},
	"command":     {},
	"builtin":     {},
	"exec":        {valueOpts: "-a"},
	"nice":        {valueOpts: "-n --adjustment"},
	"nohup":       {},
	"timeout":     {valueOpts: "-s --signal -k --kill-after", operands: 1},
	"xargs":       {valueOpts: "-a --arg-file -d --delimiter -E -I -L --max-lines -n --max-args -P --max-procs -s --max-chars --process-slot-var"}, // -e, -i, -l take glued values only
	"busybox":     {},
	"sudo":        {valueOpts: "-u --user -g --group -h --host -p --prompt -C --close-from -D --chdir -r --role -t --type -U --other-user -T --command-timeout"},
	"doas":        {valueOpts: "-u -C"},
	"time":        {valueOpts: "-f --format -o --output"},
	"stdbuf":      {valueOpts: "-i --input -o --output -e --error"},
	"ionice":      {valueOpts: "-c --class -n --classdata -p --pid -P --pgid -u --uid"},
	"setsid":      {},
	"chrt":        {operands: 1},
	"taskset":     {valueOpts: "-c --cpu-list"},
	"unbuffer":    {},
	"strace":      {valueOpts: "-o -e -p -u -E -s -a -b -I -O -P -S -X"},
	"ltrace":      {valueOpts: "-o -e -p -u -a -n -s -A -D -F -l"},
	"fakeroot":    {},
	"chroot":      {operands: 1},
	"flock":       {valueOpts: "-w --timeout -E --conflict-exit-code", operands: 1},
	"caffeinate":  {},
	"catchsegv":   {},
	"firejail":    {},
	"proot":       {},
	"torsocks":    {},
	"proxychains": {},
	"watch":       {valueOpts: "-n --interval -d"},
	"unshare":     {},
	"nsenter":     {valueOpts: "-t --target -S --setuid -G --setgid"},
}

// command checks one simple command: args[0] is the program.
func (a *analyzer) command(args []arg, st *state, redirs []*syntax.Redirect, depth int) *Refusal {
	if depth > maxDepth {
		return refuse("too-nested", "shells, eval and prefixes are nested more than %d deep; simplify the command", maxDepth)
	}
	// Nested prefixes are checked at several split points, which can
	// multiply; a budget keeps Check fast and refuses what exceeds it.
	if a.steps++; a.steps > maxSteps {
		return refuse("too-nested", "the command needs more than %d checks to analyse; simplify it", maxSteps)
	}
	if !args[0].lit {
		return refuse("dynamic-command", "the program name %s is computed when the command runs ($VAR, $(...), $'...'); yolo mode refuses programs it cannot see, so write the program name literally", args[0].val)
	}
	if args[0].glob {
		return refuse("dynamic-command", "the program name %s is a glob, expanded when the command runs; write the program name literally", args[0].val)
	}
	name := filepath.Base(args[0].val)
	if a.first == "" {
		a.first = name
	}
	if r := a.policyDeny(name, args); r != nil {
		return r
	}
	if p, ok := prefixes[name]; ok {
		return a.prefixed(name, p, args, st, redirs, depth)
	}
	ops := operands(args[1:])
	switch {
	case shells[name]:
		return a.shell(name, args, st, redirs, depth)
	case isInterpreter(name):
		return a.interpreter(name, args, st)
	case strings.HasPrefix(name, "mkfs") || diskTools[name]:
		return refuse("disk-format", "%s formats or repartitions disks; yolo mode never runs it", name)
	case powerTools[name]:
		return refuse("shutdown", "%s stops or restarts the machine; yolo mode never runs it", name)
	}
	switch name {
	case "eval":
		return a.nested(name, args[1:], st, depth)
	case "source", ".":
		if len(args) > 1 {
			return a.scriptFile(name, args[1], st, redirs, depth)
		}
		return nil
	case "trap":
		rest := args[1:]
		if len(rest) > 0 && rest[0].lit && rest[0].val == "--" {
			rest = rest[1:]
		}
		if len(rest) > 1 && !(rest[0].lit && strings.HasPrefix(rest[0].val, "-")) {
			return a.nested(name, rest[:1], st, depth)
		}
		return nil
	case "alias":
		if len(args) > 1 {
			return refuse("alias", "aliases rename commands behind yolo mode's analysis; call the command directly")
		}
		return nil
	case "hash":
		if hasFlag(args, "-p") {
			return refuse("alias", "hash -p makes one command name run another program; call the program directly")
		}
	case "enable":
		if len(args) > 1 {
			return refuse("alias", "enable changes which builtins run (enable -n cd, enable -f lib.so), behind yolo mode's analysis; yolo mode refuses it")
		}
	case "cd", "pushd", "popd":
		a.cd(name, args, st)
		return nil
	case "systemctl", "loginctl":
		for _, o := range ops {
			switch o.val {
			case "poweroff", "reboot", "halt", "kexec", "suspend", "hibernate", "hybrid-sleep", "rescue", "emergency", "soft-reboot":
				return refuse("shutdown", "%s %s stops or restarts the machine; yolo mode never runs it", name, o.val)
			}
		}
	case "init", "telinit":
		if len(ops) > 0 {
			return refuse("shutdown", "%s changes the runlevel (stops or restarts the machine); yolo mode never runs it", name)
		}
	case "kill":
		return killAll(args)
	case "find":
		return a.find(args, st, depth)
	case "rm":
		return a.remove(name, args, st, true)
	case "rmdir", "unlink", "shred", "truncate", "touch", "mkdir", "mkfifo", "mknod", "tee":
		return a.remove(name, args, st, false)
	case "chmod", "chown", "chgrp", "chattr", "setfacl":
		return a.chmod(name, args, st)
	case "mv":
		// mv removes its sources as well as writing its destination.
		for _, t := range ops {
			if r := a.writeTarget("mv", t, st); r != nil {
				return r
			}
		}
		return a.copyDest(name, args, st)
	case "cp", "install", "ln", "rsync":
		// A link (ln, ln -s, cp -l, cp -s) to a file outside lets a later
		// write through it land outside, after the analysis ran.
		if name == "ln" || (name == "cp" && shortFlag(args, "ls", "--link", "--symbolic-link")) {
			if r := a.symlinkTargets(ops, st); r != nil {
				return r
			}
		}
		return a.copyDest(name, args, st)
	case "mount", "umount", "losetup", "swapon", "swapoff", "pivot_root", "switch_root":
		if len(args) > 1 {
			return refuse("mount", "%s changes what the filesystem shows (mount --bind / build would make a delete in the workspace reach /); yolo mode refuses it", name)
		}
	case "systemd-run", "at", "batch", "crontab", "atd", "daemonize", "start-stop-daemon":
		return refuse("schedule", "%s runs a command later or outside this command's processes, where yolo mode can neither check nor stop it", name)
	case "su", "runuser", "script":
		for i := 1; i+1 < len(args); i++ {
			if args[i].lit && (args[i].val == "-c" || args[i].val == "--command") {
				return a.nested(name+" -c", args[i+1:i+2], st, depth)
			}
		}
	case "dd":
		for _, o := range args[1:] {
			if strings.HasPrefix(o.val, "of=") || !o.lit && strings.Contains(o.val, "of=") {
				t := o
				t.val = strings.TrimPrefix(o.val, "of=")
				if r := a.writeTarget("dd of=", t, st); r != nil {
					return r
				}
			}
		}
	case "curl", "wget":
		return a.downloadDest(name, args, st)
	case "sed":
		if hasFlag(args, "-i") || hasPrefixArg(args, "-i") || hasPrefixArg(args, "--in-place") {
			files := ops
			if !hasFlag(args, "-e") && !hasFlag(args, "-f") && !hasPrefixArg(args, "--expression") && len(files) > 0 {
				files = files[1:]
			}
			for _, f := range files {
				if r := a.writeTarget("sed -i", f, st); r != nil {
					return r
				}
			}
		}
	}
	return nil
}

// policyDeny matches the operator's deny patterns; a non-literal argument
// matches any pattern word, since it may become anything.
func (a *analyzer) policyDeny(name string, args []arg) *Refusal {
	for _, pat := range a.pol.Deny {
		words := strings.Fields(pat)
		if len(words) == 0 || !wildcard(words[0], name) {
			continue
		}
		if matchArgs(words[1:], args[1:]) {
			return refuse("policy-deny", "the operator's deny pattern %q matches this command (%s)", pat, name)
		}
	}
	return nil
}

func matchArgs(words []string, args []arg) bool {
	for i, w := range words {
		if w == "*" && i == len(words)-1 {
			return true
		}
		if i >= len(args) {
			return false
		}
		if args[i].lit && !wildcard(w, args[i].val) {
			return false
		}
	}
	return len(args) == len(words)
}

var diskTools = map[string]bool{"mke2fs": true, "mkswap": true, "mkdosfs": true, "mkntfs": true, "wipefs": true,
	"fdisk": true, "sfdisk": true, "cfdisk": true, "gdisk": true, "sgdisk": true, "parted": true, "blkdiscard": true,
	"pvcreate": true, "vgcreate": true, "lvcreate": true, "cryptsetup": true, "badblocks": true, "hdparm": true}

var powerTools = map[string]bool{"shutdown": true, "reboot": true, "halt": true, "poweroff": true, "kexec": true}

// operands are the arguments that are not options (everything after --).
func operands(args []arg) []arg {
	var out []arg
	for i, o := range args {
		if o.lit && o.val == "--" {
			return append(out, args[i+1:]...)
		}
		if o.lit && strings.HasPrefix(o.val, "-") && o.val != "-" {
			continue
		}
		out = append(out, o)
	}
	return out
}

func hasFlag(args []arg, f string) bool {
	for _, o := range args[1:] {
		if o.lit && o.val == "--" {
			return false
		}
		if o.lit && o.val == f {
			return true
		}
	}
	return false
}

func hasPrefixArg(args []arg, p string) bool {
	for _, o := range args[1:] {
		if o.lit && strings.HasPrefix(o.val, p) {
			return true
		}
	}
	return false
}

// shortFlag reports whether a single-dash option cluster (-rf) or one of
// the long forms is among args.
func shortFlag(args []arg, letters string, long ...string) bool {
	for _, o := range args[1:] {
		if !o.lit {
			continue
		}
		if o.val == "--" {
			return false
		}
		for _, l := range long {
			if o.val == l {
				return true
			}
		}
		if len(o.val) > 1 && o.val[0] == '-' && o.val[1] != '-' && strings.ContainsAny(o.val[1:], letters) {
			return true
		}
	}
	return false
}

func (a *analyzer) prefixed(name string, p prefix, args []arg, st *state, redirs []*syntax.Redirect, depth int) *Refusal {
	rest := args[1:]
	values := strings.Fields(p.valueOpts)
	isValue := func(s string) bool {
		for _, v := range values {
			if s == v {
				return true
			}
		}
		return false
	}
	inner := *st
	if name == "xargs" {
		inner.stdinPipe = false
	}
	if name == "builtin" || name == "command" {
		// They run the command in this shell: builtin cd moves it.
		defer func() { st.cwd = inner.cwd }()
	}
	operands := p.operands
	for len(rest) > 0 {
		o := rest[0]
		if !o.lit {
			return refuse("dynamic-command", "%s is followed by %s, computed when the command runs, so yolo mode cannot tell which program runs; write it literally", name, o.val)
		}
		v := o.val
		if v == "--" {
			rest = rest[1:]
			break
		}
		if name == "env" && strings.Contains(v, "=") && !strings.HasPrefix(v, "-") {
			rest = rest[1:]
			continue
		}
		if name == "env" && (v == "-S" || v == "--split-string" || strings.HasPrefix(v, "--split-string=") || strings.HasPrefix(v, "-S") && len(v) > 2) {
			// env -S splits one string into a command line.
			s := strings.TrimPrefix(strings.TrimPrefix(v, "--split-string="), "-S")
			tail := rest[1:]
			if v == "-S" || v == "--split-string" {
				if len(rest) < 2 {
					return nil
				}
				s, tail = rest[1].val, rest[2:]
				if !rest[1].lit {
					return refuse("dynamic-script", "env -S %s is computed when the command runs; yolo mode cannot see what it runs", rest[1].val)
				}
			}
			for _, t := range tail {
				s += " " + t.val
			}
			return a.script(s, &inner, depth+1)
		}
		if name == "flock" && (v == "-c" || v == "--command") && len(rest) > 1 {
			return a.nested(name, rest[1:2], &inner, depth)
		}
		if strings.HasPrefix(v, "-") && len(v) > 1 {
			if (name == "env" && (v == "-C" || v == "--chdir")) || (name == "sudo" && (v == "-D" || v == "--chdir")) {
				inner.cwd = ""
			}
			if isValue(v) {
				if len(rest) < 2 {
					return nil // the option lacks its value: nothing runs
				}
				rest = rest[1:]
			}
			rest = rest[1:]
			continue
		}
		if operands > 0 {
			operands--
			rest = rest[1:]
			continue
		}
		break
	}
	if len(rest) == 0 {
		return nil
	}
	// Option parsing above may be wrong about an option's value (a program
	// version that takes one more or one fewer): also check each earlier
	// operand as if the command started there, so a misread arity can only
	// refuse more, never let a denied command through.
	for j := 1; j < len(args)-len(rest); j++ {
		if o := args[j]; o.lit && !strings.HasPrefix(o.val, "-") && !strings.Contains(o.val, "=") {
			first := a.first
			r := a.command(args[j:], &inner, redirs, depth+1)
			a.first = first
			if r != nil && r.Rule != "dynamic-command" {
				return r
			}
		}
	}
	if name == "command" && (hasFlag(args, "-v") || hasFlag(args, "-V")) {
		return nil // only looks the command up
	}
	if name == "watch" {
		return a.nested(name, rest, &inner, depth)
	}
	if name == "xargs" {
		// The command gets more arguments from stdin: its targets are
		// unknown, and so is any argument holding -I's replace string.
		repl := ""
		for i := 1; i < len(args); i++ {
			v := args[i].val
			switch {
			case v == "-I" && i+1 < len(args):
				repl = args[i+1].val
			case strings.HasPrefix(v, "-I") && len(v) > 2:
				repl = v[2:]
			case v == "-i" || v == "--replace":
				repl = "{}"
			case strings.HasPrefix(v, "--replace="):
				repl = strings.TrimPrefix(v, "--replace=")
			case strings.HasPrefix(v, "-i") && len(v) > 2:
				repl = v[2:]
			}
		}
		out := append([]arg{}, rest...)
		for i := range out {
			if repl != "" && strings.Contains(out[i].val, repl) {
				out[i].lit = false
				out[i].word = nil
			}
		}
		rest = append(out, arg{val: "(arguments read by xargs)"})
	}
	return a.command(rest, &inner, redirs, depth+1)
}

// nested checks words that a program joins into a script (eval, trap,
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

func (a *analyzer) cd(name string, args []arg, st *state) {
	ops := operands(args[1:])
	switch {
	case name != "cd":
		st.cwd = ""
	case len(ops) == 0:
		st.cwd = a.tilde() // "" (unknown) when the text sets HOME
	case a.assigned["CDPATH"] && !strings.HasPrefix(ops[0].val, "."):
		st.cwd = "" // CDPATH may send a relative cd anywhere
	case !ops[0].lit || ops[0].val == "-" || ops[0].glob:
		st.cwd = ""
	case filepath.IsAbs(ops[0].val):
		st.cwd = resolve(ops[0].val, "/")
	case st.cwd != "":
		st.cwd = resolve(ops[0].val, st.cwd)
	}
}

// killAll refuses kill -1 (every process the user may signal).
func killAll(args []arg) *Refusal {
	i := 1
	if i < len(args) && args[i].lit && (args[i].val == "-s" || args[i].val == "-n") {
		i += 2
	} else if i < len(args) && args[i].lit && strings.HasPrefix(args[i].val, "-") && args[i].val != "--" && len(args) > 2 {
		i++ // the signal, as -9, -KILL or -1
	}
	for ; i < len(args); i++ {
		if args[i].val == "--" {
			continue
		}
		if !args[i].lit || args[i].val == "-1" {
			if !args[i].lit {
				continue
			}
			return refuse("kill-all", "kill -1 signals every process you may signal, the bridge included; name the process ids")
		}
	}
	return nil
}

func (a *analyzer) find(args []arg, st *state, depth int) *Refusal {
	var starts []arg
	i := 1
	// Options before the start points: -H, -L, -P, -D debugopts, -Olevel.
	for i < len(args) && args[i].lit {
		v := args[i].val
		if v == "-H" || v == "-L" || v == "-P" || strings.HasPrefix(v, "-O") {
			i++
		} else if v == "-D" {
			i += 2
		} else {
			break
		}
	}
	for ; i < len(args); i++ {
		v := args[i].val
		if args[i].lit && (strings.HasPrefix(v, "-") || v == "(" || v == "!") {
			break
		}
		starts = append(starts, args[i])
	}
	if len(starts) == 0 {
		starts = []arg{{val: ".", lit: true}}
	}
	for ; i < len(args); i++ {
		v := args[i].val
		switch v {
		case "-delete":
			for _, s := range starts {
				if r := a.writeTarget("find -delete", s, st); r != nil {
					return r
				}
			}
		case "-exec", "-execdir", "-ok", "-okdir":
			j := i + 1
			for j < len(args) && args[j].val != ";" && args[j].val != "+" {
				j++
			}
			cmd := args[i+1 : j]
			i = j
			if len(cmd) == 0 {
				continue
			}
			for _, s := range starts {
				sub := make([]arg, len(cmd))
				for k, c := range cmd {
					sub[k] = c
					if c.lit && strings.Contains(c.val, "{}") {
						sub[k].val = strings.ReplaceAll(c.val, "{}", s.val)
						sub[k].lit = s.lit
					}
				}
				if r := a.command(sub, st, nil, depth+1); r != nil {
					return r
				}
			}
		case "-fprint", "-fprint0", "-fprintf", "-fls":
			if i+1 < len(args) {
				if r := a.writeTarget("find "+v, args[i+1], st); r != nil {
					return r
				}
			}
		}
	}
	return nil
}

// remove checks rm and the other commands whose every operand is written.
func (a *analyzer) remove(name string, args []arg, st *state, rm bool) *Refusal {
	recursive := rm && shortFlag(args, "rR", "--recursive")
	for _, t := range operands(args[1:]) {
		if recursive {
			if r := a.dangerous(name+" -r", t, st); r != nil {
				return r
			}
		}
		if r := a.writeTarget(name, t, st); r != nil {
			return r
		}
	}
	return nil
}

// dangerous refuses a recursive operation on /, the home directory or an
// ancestor of it, with a rule of its own (worse than outside-workspace).
func (a *analyzer) dangerous(what string, t arg, st *state) *Refusal {
	if !t.lit {
		return refuse("dynamic-target", "%s on %s, which is computed when the command runs; yolo mode refuses a recursive operation whose target it cannot see, so write the path literally", what, t.val)
	}
	p := t.val
	if t.glob {
		p = globBase(p)
	}
	cwd := st.cwd
	if cwd == "" {
		if !filepath.IsAbs(p) {
			return refuse("dynamic-target", "%s on %q after a cd yolo mode could not follow; use a path relative to the workspace without cd", what, t.val)
		}
		cwd = "/"
	}
	for _, res := range []string{filepath.Clean(filepath.Join(cwd, p)), resolve(p, cwd)} {
		if filepath.IsAbs(p) {
			res = filepath.Clean(p)
		}
		if res == "/" || (a.home != "" && within(a.home, res)) {
			return refuse("recursive-delete", "%s %s would destroy the root or home directory; yolo mode never allows it", what, t.val)
		}
	}
	return nil
}

func (a *analyzer) chmod(name string, args []arg, st *state) *Refusal {
	ops := operands(args[1:])
	if name != "setfacl" && name != "chattr" && !hasPrefixArg(args, "--reference") && len(ops) > 0 {
		ops = ops[1:] // the mode or owner
	}
	recursive := shortFlag(args, "R", "--recursive")
	for _, t := range ops {
		if name == "chattr" && t.lit && (strings.HasPrefix(t.val, "+") || strings.HasPrefix(t.val, "=")) {
			continue
		}
		if recursive {
			if r := a.dangerous(name+" -R", t, st); r != nil {
				r.Rule = "recursive-chmod"
				return r
			}
		}
		if r := a.writeTarget(name, t, st); r != nil {
			return r
		}
	}
	return nil
}

// symlinkTargets refuses a link (symbolic or hard) to a target outside the
// workspace: a later write through it would land outside, after the
// analysis ran.
func (a *analyzer) symlinkTargets(ops []arg, st *state) *Refusal {
	if len(ops) >= 2 {
		ops = ops[:len(ops)-1]
	}
	for _, t := range ops {
		if !t.lit {
			return refuse("dynamic-target", "ln -s to %s, which is computed when the command runs; write the link target literally", t.val)
		}
		if st.cwd == "" && !filepath.IsAbs(t.val) {
			return refuse("dynamic-target", "ln -s %q after a cd yolo mode could not follow", t.val)
		}
		cwd := st.cwd
		if cwd == "" {
			cwd = a.ws
		}
		if res := resolve(t.val, cwd); !within(res, a.ws) {
			return refuse("outside-workspace", "linking to %s makes a link to %s, outside the workspace; a write through it would land outside, so link only inside the workspace", t.val, res)
		}
	}
	return nil
}

// copyDest checks where cp, mv, install, ln and rsync write.
func (a *analyzer) copyDest(name string, args []arg, st *state) *Refusal {
	for i, o := range args[1:] {
		if !o.lit {
			continue
		}
		if o.val == "-t" || o.val == "--target-directory" {
			if i+2 < len(args) {
				return a.writeTarget(name+" -t", args[i+2], st)
			}
		}
		if v, ok := strings.CutPrefix(o.val, "--target-directory="); ok {
			t := o
			t.val = v
			return a.writeTarget(name+" -t", t, st)
		}
	}
	ops := operands(args[1:])
	if name == "install" && hasFlag(args, "-d") {
		for _, t := range ops {
			if r := a.writeTarget(name+" -d", t, st); r != nil {
				return r
			}
		}
		return nil
	}
	if name == "rsync" && len(ops) > 0 && strings.Contains(ops[len(ops)-1].val, ":") {
		return nil // remote destination
	}
	if len(ops) >= 2 || (name == "ln" && len(ops) == 1) {
		dest := ops[len(ops)-1]
		if name == "ln" && len(ops) == 1 {
			dest = arg{val: ".", lit: true}
		}
		return a.writeTarget(name+" destination", dest, st)
	}
	return nil
}

// downloadDest checks curl -o / --output-dir and wget -O / -P.
func (a *analyzer) downloadDest(name string, args []arg, st *state) *Refusal {
	opts := map[string]bool{"-o": name == "curl", "--output": name == "curl", "--output-dir": name == "curl",
		"-O": name == "wget", "--output-document": name == "wget", "-P": name == "wget", "--directory-prefix": name == "wget"}
	for i := 1; i < len(args); i++ {
		o := args[i]
		if !o.lit {
			continue
		}
		if opts[o.val] && i+1 < len(args) {
			if args[i+1].lit && args[i+1].val == "-" {
				continue
			}
			if r := a.writeTarget(name+" "+o.val, args[i+1], st); r != nil {
				return r
			}
		}
		if k, v, ok := strings.Cut(o.val, "="); ok && opts[k] && v != "-" {
			t := o
			t.val = v
			if r := a.writeTarget(name+" "+k, t, st); r != nil {
				return r
			}
		}
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
