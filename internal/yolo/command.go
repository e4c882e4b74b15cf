package yolo

import (
	"path/filepath"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// One simple command in yolo mode (and restricted mode's hard deny list):
// prefixes and nested scripts are unwrapped (prefix.go, nested.go), then
// the program's rule in the programs table runs; writers.go checks where
// writing programs write.

// call is one simple command under analysis: args[0] is the program as
// written, name its base name.
type call struct {
	name   string
	args   []arg
	st     *state
	redirs []*syntax.Redirect
	depth  int
}

// programRule checks one program's call; nil lets it run.
type programRule func(a *analyzer, c call) *Refusal

// programs maps a program's base name to its rule. Programs not in it (and
// not a shell, interpreter, disk or power tool) run unchecked beyond the
// operator's deny patterns and the redirections around them. Filled by
// init: the rules call back into command, which reads the table.
var programs map[string]programRule

func init() {
	programs = map[string]programRule{
		"eval":   func(a *analyzer, c call) *Refusal { return a.nested(c.name, c.args[1:], c.st, c.depth) },
		"source": sourceRule, ".": sourceRule,
		"trap":  trapRule,
		"alias": aliasRule, "hash": hashRule, "enable": enableRule,
		"cd": cdRule, "pushd": cdRule, "popd": cdRule,
		"systemctl": powerVerbRule, "loginctl": powerVerbRule,
		"init": runlevelRule, "telinit": runlevelRule,
		"kill":  func(_ *analyzer, c call) *Refusal { return killAll(c.args) },
		"pkill": killByNameRule, "killall": killByNameRule, "killall5": killByNameRule, "skill": killByNameRule,
		"slay": killByNameRule,
		"find": func(a *analyzer, c call) *Refusal { return a.find(c.args, c.st, c.depth) },
		"rm":   func(a *analyzer, c call) *Refusal { return a.remove(c.name, c.args, c.st, true) },
		"mv":   mvRule, "cp": copyRule, "install": copyRule, "ln": copyRule, "rsync": copyRule,
		"su": suRule, "runuser": suRule, "script": suRule,
		"dd":   ddRule,
		"curl": downloadRule, "wget": downloadRule,
		"sed": sedRule,
	}
	for _, n := range []string{"rmdir", "unlink", "shred", "truncate", "touch", "mkdir", "mkfifo", "mknod", "tee"} {
		programs[n] = func(a *analyzer, c call) *Refusal { return a.remove(c.name, c.args, c.st, false) }
	}
	for _, n := range []string{"chmod", "chown", "chgrp", "chattr", "setfacl"} {
		programs[n] = func(a *analyzer, c call) *Refusal { return a.chmod(c.name, c.args, c.st) }
	}
	for _, n := range []string{"mount", "umount", "losetup", "swapon", "swapoff", "pivot_root", "switch_root"} {
		programs[n] = mountRule
	}
	for _, n := range []string{"systemd-run", "at", "batch", "crontab", "atd", "daemonize", "start-stop-daemon"} {
		programs[n] = scheduleRule
	}
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
	if r := programs[name]; r != nil {
		return r(a, call{name: name, args: args, st: st, redirs: redirs, depth: depth})
	}
	return nil
}

func sourceRule(a *analyzer, c call) *Refusal {
	if len(c.args) > 1 {
		return a.scriptFile(c.name, c.args[1], c.st, c.redirs, c.depth)
	}
	return nil
}

func trapRule(a *analyzer, c call) *Refusal {
	rest := c.args[1:]
	if len(rest) > 0 && rest[0].lit && rest[0].val == "--" {
		rest = rest[1:]
	}
	if len(rest) > 1 && !(rest[0].lit && strings.HasPrefix(rest[0].val, "-")) {
		return a.nested(c.name, rest[:1], c.st, c.depth)
	}
	return nil
}

func aliasRule(_ *analyzer, c call) *Refusal {
	if len(c.args) > 1 {
		return refuse("alias", "aliases rename commands behind yolo mode's analysis; call the command directly")
	}
	return nil
}

func hashRule(_ *analyzer, c call) *Refusal {
	if hasFlag(c.args, "-p") {
		return refuse("alias", "hash -p makes one command name run another program; call the program directly")
	}
	return nil
}

func enableRule(_ *analyzer, c call) *Refusal {
	if len(c.args) > 1 {
		return refuse("alias", "enable changes which builtins run (enable -n cd, enable -f lib.so), behind yolo mode's analysis; yolo mode refuses it")
	}
	return nil
}

func cdRule(a *analyzer, c call) *Refusal {
	a.cd(c.name, c.args, c.st)
	return nil
}

func powerVerbRule(_ *analyzer, c call) *Refusal {
	for _, o := range operands(c.args[1:]) {
		switch o.val {
		case "poweroff", "reboot", "halt", "kexec", "suspend", "hibernate", "hybrid-sleep", "rescue", "emergency", "soft-reboot":
			return refuse("shutdown", "%s %s stops or restarts the machine; yolo mode never runs it", c.name, o.val)
		}
	}
	return nil
}

func runlevelRule(_ *analyzer, c call) *Refusal {
	if len(operands(c.args[1:])) > 0 {
		return refuse("shutdown", "%s changes the runlevel (stops or restarts the machine); yolo mode never runs it", c.name)
	}
	return nil
}

func mountRule(_ *analyzer, c call) *Refusal {
	if len(c.args) > 1 {
		return refuse("mount", "%s changes what the filesystem shows (mount --bind / build would make a delete in the workspace reach /); yolo mode refuses it", c.name)
	}
	return nil
}

func scheduleRule(_ *analyzer, c call) *Refusal {
	return refuse("schedule", "%s runs a command later or outside this command's processes, where yolo mode can neither check nor stop it", c.name)
}

func suRule(a *analyzer, c call) *Refusal {
	for i := 1; i+1 < len(c.args); i++ {
		if c.args[i].lit && (c.args[i].val == "-c" || c.args[i].val == "--command") {
			return a.nested(c.name+" -c", c.args[i+1:i+2], c.st, c.depth)
		}
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

// killAll refuses kill with a process id that is not a positive number:
// -1 signals every process you may signal, 0 the whole process group and
// -PGID another group (the bridge's, perhaps). Only a signal option may
// start with a dash, and only before the first process id.
func killAll(args []arg) *Refusal {
	i := 1
	if i < len(args) && args[i].lit && (args[i].val == "-s" || args[i].val == "-n") {
		i += 2
	} else if i < len(args) && args[i].lit && (args[i].val == "-l" || args[i].val == "-L" || args[i].val == "--list" || args[i].val == "--table") {
		return nil // lists signal names
	} else if i < len(args) && args[i].lit && strings.HasPrefix(args[i].val, "-") && args[i].val != "--" && len(args) > 2 {
		i++ // the signal, as -9, -KILL or -1
	}
	for ; i < len(args); i++ {
		v := args[i].val
		if args[i].lit && v == "--" {
			continue
		}
		if !args[i].lit {
			continue // a computed pid: $! or $(cat pidfile) names one process
		}
		if n, err := strconv.Atoi(v); err == nil && n <= 0 {
			return refuse("kill-all", "kill %s signals every process you may signal or a whole process group, the bridge's perhaps; name the process ids", v)
		}
	}
	return nil
}

// killByNameRule refuses programs that pick processes by name or kill
// them all (pkill -9 . matches every process of yours, the bridge
// included; killall5 signals every process outside its session).
func killByNameRule(_ *analyzer, c call) *Refusal {
	return refuse("kill-all", "%s picks processes by name or kills them all, which can reach the bridge and every other program you run; kill the process ids you started with kill PID", c.name)
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
