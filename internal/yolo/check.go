package yolo

import "path/filepath"

// MaxText is the longest command Check analyses.
const MaxText = 32 << 10

// Check decides whether text may run in mode inside workspace (absolute,
// symlinks resolved, as from Workspace) under p. A refusal is a *Refusal
// whose Error tells the caller which rule refused and what is allowed
// instead. The package doc lists the rules of each mode.
//
// Check looks at the filesystem (symlinks, which paths exist) and, for git
// in safe and restricted mode, runs git config to read filter names; what
// it decided holds for the filesystem as it was. When approval takes a
// while, call Check again just before Run.
func Check(mode Mode, text, workspace string, p Policy) (plan Plan, err error) {
	// A bug in the analysis must refuse, not crash the bridge or allow.
	defer func() {
		if v := recover(); v != nil {
			plan, err = Plan{}, refuse("internal", "the command could not be analysed (internal error: %v); simplify it", v)
		}
	}()
	if text == "" {
		return Plan{}, refuse("empty", "no command given")
	}
	if len(text) > MaxText {
		return Plan{}, refuse("too-long", "the command is %d bytes, over the %d-byte limit; put long scripts in a file in the workspace", len(text), MaxText)
	}
	if !filepath.IsAbs(workspace) {
		return Plan{}, refuse("workspace", "the workspace %q is not an absolute path; pass the result of Workspace", workspace)
	}
	if r := controlChar(text); r != nil {
		return Plan{}, r
	}
	if r := lookalike(text); r != nil {
		return Plan{}, r
	}
	switch mode {
	case Safe, Restricted:
		return checkArgv(mode, text, workspace, p)
	case YOLO:
		a := newAnalyzer(workspace, p)
		if r := a.script(text, &state{cwd: workspace}, 0); r != nil {
			return Plan{}, r
		}
		prog := a.first
		if prog == "" {
			prog = "bash"
		}
		return Plan{Mode: mode, Text: text, Argv: []string{"bash", "--norc", "--noprofile", "-c", text}, Program: prog}, nil
	}
	return Plan{}, refuse("mode", "unknown mode %q; the modes are safe, restricted and yolo", mode)
}
