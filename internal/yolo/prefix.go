package yolo

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Prefix commands: programs that run another command given in their
// arguments (env, nice, timeout, xargs, sudo ...). The analysis unwraps
// them and checks the command inside as if it stood alone.

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
