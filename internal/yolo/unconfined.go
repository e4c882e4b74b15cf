package yolo

import "os"

// Without the sandbox (bubblewrap missing, or unable to create namespaces
// here) only safe mode runs, and only what cannot reach past its
// arguments: every file a command opens must be named by an argument that
// Check resolved inside the workspace. So the bridge's key, database and
// backups, and everything else outside, stay out of reach.

// unconfined refuses what may not run without the sandbox: restricted and
// yolo mode (their programs can open anything), go (it runs the project's
// code) and git (repository configuration names files and programs
// anywhere), options that follow symbolic links while recursing or read
// file names from a file, and arguments naming hidden paths.
func unconfined(plan Plan, argv []string, ws string, hide []string) *Refusal {
	if plan.Mode != Safe {
		return refuse("needs-sandbox", "%s mode runs commands only inside the bubblewrap sandbox, which keeps agent-bridge's key and database out of their reach; install bubblewrap (apt-get install bubblewrap) or use safe mode", plan.Mode)
	}
	prog := plan.Program
	switch prog {
	case "go":
		return refuse("needs-sandbox", "go build, vet and test run the project's code, which could read anything your user can; they run only inside the bubblewrap sandbox")
	case "git":
		return refuse("needs-sandbox", "git reads repository configuration that can name files and programs anywhere; it runs only inside the bubblewrap sandbox")
	case "find":
		if follow, _ := findArgs(argv); follow {
			return refuse("needs-sandbox", "find -L and -follow follow symbolic links out of the workspace; without the sandbox they are refused (drop -L)")
		}
	}
	if spec, ok := optionTables[prog]; ok {
		p, r := parseOpts(prog, spec, argv[1:])
		if r != nil {
			return r
		}
		if r := spec.checkOpts(prog, p, false); r != nil {
			return r
		}
		if h := hiddenWithin(ws, hide); h != "" && recursiveRead(prog, p) {
			return refuse("hidden-path", "the workspace holds %s, which agent-bridge keeps from every command; without the sandbox a recursive read (%s) would reach it, so it is refused: name the files to read", h, prog)
		}
	}
	for i := 1; i < len(argv); i++ {
		for _, c := range pathCandidates(argv[i]) {
			if c == "" {
				continue
			}
			r := resolve(c, ws)
			for _, h := range hide {
				if h != "" && within(r, resolve(h, "/")) {
					return refuse("hidden-path", "argument %q refers to %s, one of the files agent-bridge keeps from every command", argv[i], r)
				}
			}
		}
	}
	return nil
}

// hiddenWithin returns a hidden path that exists inside ws, or "".
func hiddenWithin(ws string, hide []string) string {
	for _, h := range hide {
		if h == "" {
			continue
		}
		if r := resolve(h, "/"); within(r, ws) {
			if _, err := os.Lstat(r); err == nil {
				return r
			}
		}
	}
	return ""
}

// recursiveRead reports whether a safe-mode command reads the contents of
// a whole directory tree (rg always does).
func recursiveRead(prog string, p parsedArgs) bool {
	if prog == "rg" {
		return true
	}
	for _, o := range p.opts {
		switch prog + " " + o.name {
		case "grep -r", "grep -R", "grep --recursive", "grep --dereference-recursive", "grep -d", "grep --directories",
			"egrep -r", "egrep -R", "egrep --recursive", "fgrep -r", "fgrep -R", "fgrep --recursive",
			"diff -r", "diff --recursive":
			return true
		}
	}
	return false
}
