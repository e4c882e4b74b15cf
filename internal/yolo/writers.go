package yolo

import (
	"path/filepath"
	"strings"
)

// Writer targets: where commands that delete, create, change or copy
// files write, checked against the workspace (rm, chmod, cp, mv, ln, dd,
// sed -i, curl -o, find -delete ...).

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

func mvRule(a *analyzer, c call) *Refusal {
	// mv removes its sources as well as writing its destination.
	for _, t := range operands(c.args[1:]) {
		if r := a.writeTarget("mv", t, c.st); r != nil {
			return r
		}
	}
	return a.copyDest(c.name, c.args, c.st)
}

// copyRule checks cp, install, ln and rsync.
func copyRule(a *analyzer, c call) *Refusal {
	// A link (ln, ln -s, cp -l, cp -s) to a file outside lets a later
	// write through it land outside, after the analysis ran.
	if c.name == "ln" || (c.name == "cp" && shortFlag(c.args, "ls", "--link", "--symbolic-link")) {
		if r := a.symlinkTargets(operands(c.args[1:]), c.st); r != nil {
			return r
		}
	}
	return a.copyDest(c.name, c.args, c.st)
}

func ddRule(a *analyzer, c call) *Refusal {
	for _, o := range c.args[1:] {
		if strings.HasPrefix(o.val, "of=") || !o.lit && strings.Contains(o.val, "of=") {
			t := o
			t.val = strings.TrimPrefix(o.val, "of=")
			if r := a.writeTarget("dd of=", t, c.st); r != nil {
				return r
			}
		}
	}
	return nil
}

func downloadRule(a *analyzer, c call) *Refusal { return a.downloadDest(c.name, c.args, c.st) }

func sedRule(a *analyzer, c call) *Refusal {
	args := c.args
	if !(hasFlag(args, "-i") || hasPrefixArg(args, "-i") || hasPrefixArg(args, "--in-place")) {
		return nil
	}
	files := operands(args[1:])
	if !hasFlag(args, "-e") && !hasFlag(args, "-f") && !hasPrefixArg(args, "--expression") && len(files) > 0 {
		files = files[1:]
	}
	for _, f := range files {
		if r := a.writeTarget("sed -i", f, c.st); r != nil {
			return r
		}
	}
	return nil
}
