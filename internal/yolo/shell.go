package yolo

import (
	"path/filepath"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// analyzer walks a bash script (and every script nested in it) and refuses
// the hard deny list and Policy.Deny.
type analyzer struct {
	ws, home string
	pol      Policy
	first    string // the first program the script runs, for Plan.Program
	steps    int    // simple commands analysed so far
	// downloads is set when the text runs a downloader anywhere.
	downloads bool
	// assigned holds the variables the text assigns anywhere (HOME and
	// CDPATH change what ~ and cd mean).
	assigned map[string]bool
}

// tilde is what ~ expands to, or "" (not literal) when the text sets HOME.
func (a *analyzer) tilde() string {
	if a.assigned["HOME"] {
		return ""
	}
	return a.home
}

// shadowed are names a function may not take: the analysis gives them a
// meaning (cd moves, rm deletes, env runs its operands) that a function
// of the same name would silently replace.
func shadowed(name string) bool {
	if _, ok := prefixes[name]; ok || shells[name] || isInterpreter(name) || downloaders[name] {
		return true
	}
	switch name {
	case "cd", "pushd", "popd", "eval", "source", ".", "trap", "alias", "hash", "enable", "set", "shopt",
		"export", "declare", "typeset", "local", "readonly", "unset", "read", "printf", "echo", "test", "[",
		"rm", "rmdir", "unlink", "shred", "truncate", "touch", "mkdir", "mkfifo", "mknod", "tee", "mv", "cp",
		"install", "ln", "rsync", "dd", "chmod", "chown", "chgrp", "chattr", "setfacl", "find", "sed", "kill", "su", "runuser", "script":
		return true
	}
	return false
}

// state is what the analysis knows while walking statements in order.
type state struct {
	cwd       string // the shell's directory; "" once a cd made it unknown
	stdinPipe bool   // stdin comes from an earlier pipeline element
	download  bool   // that earlier element downloads something
	// stdinOther: stdin was redirected around a compound command or by
	// exec, so a shell reading it reads something the analysis cannot see.
	stdinOther bool
}

// inputOps are the redirections that feed stdin (or another descriptor).
var inputOps = map[syntax.RedirOperator]bool{syntax.RdrIn: true, syntax.RdrInOut: true, syntax.DplIn: true,
	syntax.Hdoc: true, syntax.DashHdoc: true, syntax.WordHdoc: true}

func hasInput(rs []*syntax.Redirect) bool {
	for _, r := range rs {
		if inputOps[r.Op] {
			return true
		}
	}
	return false
}

const maxDepth = 8

// maxSteps bounds the simple commands one Check analyses.
const maxSteps = 5000

func newAnalyzer(ws string, p Policy) *analyzer {
	return &analyzer{ws: ws, home: homeDir(), pol: p}
}

// script parses and checks src, a script run by a (nested) shell.
func (a *analyzer) script(src string, st *state, depth int) *Refusal {
	if depth > maxDepth {
		return refuse("too-nested", "shells, eval and prefixes are nested more than %d deep; simplify the command", maxDepth)
	}
	f, r := parse(src)
	if r != nil {
		return r
	}
	if r := forkBomb(f); r != nil {
		return r
	}
	if depth == 0 {
		a.downloads = downloads(f)
	}
	if a.assigned == nil {
		a.assigned = map[string]bool{}
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		if as, ok := n.(*syntax.Assign); ok && as.Name != nil {
			a.assigned[as.Name.Value] = true
		}
		if ce, ok := n.(*syntax.CallExpr); ok {
			// read HOME, printf -v HOME, and the like also assign.
			for _, w := range ce.Args {
				if v := w.Lit(); v == "HOME" || v == "CDPATH" {
					a.assigned[v] = true
				}
			}
		}
		return true
	})
	inner := *st
	return a.stmts(f.Stmts, &inner, depth)
}

func (a *analyzer) stmts(list []*syntax.Stmt, st *state, depth int) *Refusal {
	for _, s := range list {
		if r := a.stmt(s, st, depth); r != nil {
			return r
		}
	}
	return nil
}

func (a *analyzer) stmt(s *syntax.Stmt, st *state, depth int) *Refusal {
	for _, rd := range s.Redirs {
		if r := a.redirect(rd, st, depth); r != nil {
			return r
		}
	}
	if _, simple := s.Cmd.(*syntax.CallExpr); !simple && s.Cmd != nil && hasInput(s.Redirs) {
		inner := *st
		inner.stdinOther = true
		defer func() { st.cwd = inner.cwd }()
		st = &inner
	}
	switch c := s.Cmd.(type) {
	case nil:
		return nil
	case *syntax.CallExpr:
		if len(c.Args) == 1 && c.Args[0].Lit() == "exec" && hasInput(s.Redirs) {
			st.stdinOther = true // exec <file: the rest of the script reads it
		}
		for _, as := range c.Assigns {
			if r := a.substs(st, depth, as); r != nil {
				return r
			}
		}
		if r := a.substs(st, depth, wordsOf(c.Args)...); r != nil {
			return r
		}
		if len(c.Args) == 0 {
			return nil
		}
		args := make([]arg, len(c.Args))
		for i, w := range c.Args {
			args[i] = wordArg(w, a.tilde())
		}
		return a.command(args, st, s.Redirs, depth)
	case *syntax.BinaryCmd:
		if c.Op == syntax.Pipe || c.Op == syntax.PipeAll {
			elems := pipeline(c, nil)
			down := false
			for i, e := range elems {
				sub := &state{cwd: st.cwd, stdinPipe: i > 0 || st.stdinPipe, download: down || (i == 0 && st.download), stdinOther: st.stdinOther}
				if r := a.stmt(e, sub, depth); r != nil {
					return r
				}
				down = down || downloads(e)
			}
			return nil
		}
		if r := a.stmt(c.X, st, depth); r != nil {
			return r
		}
		return a.stmt(c.Y, st, depth)
	case *syntax.Subshell:
		return a.stmts(c.Stmts, st, depth)
	case *syntax.Block:
		return a.stmts(c.Stmts, st, depth)
	case *syntax.IfClause:
		for ic := c; ic != nil; ic = ic.Else {
			if r := a.stmts(ic.Cond, st, depth); r != nil {
				return r
			}
			if r := a.stmts(ic.Then, st, depth); r != nil {
				return r
			}
		}
		return nil
	case *syntax.WhileClause:
		if endless(c) && hasBackground(c.Do) {
			return refuse("fork-bomb", "an endless loop that starts background processes would exhaust the machine's processes; bound the loop")
		}
		if r := a.stmts(c.Cond, st, depth); r != nil {
			return r
		}
		return a.stmts(c.Do, st, depth)
	case *syntax.ForClause:
		if r := a.substs(st, depth, c.Loop); r != nil {
			return r
		}
		if cs, ok := c.Loop.(*syntax.CStyleLoop); ok && cs.Cond == nil && hasBackground(c.Do) {
			return refuse("fork-bomb", "an endless loop that starts background processes would exhaust the machine's processes; bound the loop")
		}
		return a.stmts(c.Do, st, depth)
	case *syntax.CaseClause:
		if r := a.substs(st, depth, wordsOf([]*syntax.Word{c.Word})...); r != nil {
			return r
		}
		for _, it := range c.Items {
			if r := a.substs(st, depth, wordsOf(it.Patterns)...); r != nil {
				return r
			}
			if r := a.stmts(it.Stmts, st, depth); r != nil {
				return r
			}
		}
		return nil
	case *syntax.FuncDecl:
		if c.Name != nil && shadowed(c.Name.Value) {
			return refuse("shadow", "a function named %q would replace the command yolo mode checks under that name; give the function another name", c.Name.Value)
		}
		// The body runs with unknown arguments ($1 is not literal), so a
		// denied command inside is refused whether or not it is called.
		return a.stmt(c.Body, &state{cwd: st.cwd}, depth)
	case *syntax.ArithmCmd, *syntax.LetClause, *syntax.TestClause:
		return a.substs(st, depth, c)
	case *syntax.DeclClause:
		return a.substs(st, depth, c)
	case *syntax.TimeClause:
		if c.Stmt == nil {
			return nil
		}
		return a.stmt(c.Stmt, st, depth)
	case *syntax.CoprocClause:
		return a.stmt(c.Stmt, st, depth)
	}
	return refuse("parse", "the shell construct %T is not analysed; rewrite the command with ordinary commands", s.Cmd)
}

func wordsOf(ws []*syntax.Word) []syntax.Node {
	out := make([]syntax.Node, len(ws))
	for i, w := range ws {
		out[i] = w
	}
	return out
}

// pipeline flattens a | b | c into its elements.
func pipeline(c *syntax.BinaryCmd, out []*syntax.Stmt) []*syntax.Stmt {
	if x, ok := c.X.Cmd.(*syntax.BinaryCmd); ok && (x.Op == syntax.Pipe || x.Op == syntax.PipeAll) && len(c.X.Redirs) == 0 {
		out = pipeline(x, out)
	} else {
		out = append(out, c.X)
	}
	if y, ok := c.Y.Cmd.(*syntax.BinaryCmd); ok && (y.Op == syntax.Pipe || y.Op == syntax.PipeAll) && len(c.Y.Redirs) == 0 {
		return pipeline(y, out)
	}
	return append(out, c.Y)
}

// substs checks every command and process substitution inside nodes (words,
// assignments, arithmetic) as a script of its own.
func (a *analyzer) substs(st *state, depth int, nodes ...syntax.Node) *Refusal {
	var r *Refusal
	for _, n := range nodes {
		if n == nil || r != nil {
			continue
		}
		syntax.Walk(n, func(n syntax.Node) bool {
			if r != nil {
				return false
			}
			var list []*syntax.Stmt
			inner := &state{cwd: st.cwd}
			switch s := n.(type) {
			case *syntax.CmdSubst:
				list = s.Stmts
			case *syntax.ProcSubst:
				list = s.Stmts
				if s.Op == syntax.CmdOut {
					// >(...) reads what the outer command writes, which
					// may be a download: curl x | tee >(sh).
					inner.stdinPipe, inner.download = true, a.downloads
				}
			default:
				return true
			}
			r = a.stmts(list, inner, depth+1)
			return false
		})
	}
	return r
}

// downloaders fetch from the network.
var downloaders = map[string]bool{"curl": true, "wget": true, "fetch": true, "aria2c": true, "http": true, "https": true,
	"xh": true, "nc": true, "ncat": true, "netcat": true, "socat": true, "lynx": true, "w3m": true, "links": true, "ftp": true, "tftp": true, "scp": true, "ssh": true}

// downloads reports whether n runs a downloader anywhere, judged by any
// literal word's base name (so "env curl" and "sudo wget" count too).
func downloads(n syntax.Node) bool {
	found := false
	syntax.Walk(n, func(n syntax.Node) bool {
		if ce, ok := n.(*syntax.CallExpr); ok {
			for _, w := range ce.Args {
				if v, _, _ := unescape(litOrQuoted(w), false); downloaders[filepath.Base(v)] {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// litOrQuoted is the word's text with quotes dropped, for name matching.
func litOrQuoted(w *syntax.Word) string {
	a := wordArg(w, "")
	return a.val
}

// shells run scripts given with -c, as a file, or on stdin.
var shells = map[string]bool{"sh": true, "bash": true, "zsh": true, "dash": true, "ksh": true, "mksh": true,
	"ash": true, "fish": true, "csh": true, "tcsh": true, "yash": true, "rbash": true, "pdksh": true, "oksh": true, "posh": true}

// interpreters run programs given with -c/-e, as a file or on stdin; the
// analysis cannot see inside their programs.
var interpreters = map[string]bool{"python": true, "python2": true, "python3": true, "perl": true, "ruby": true,
	"node": true, "nodejs": true, "php": true, "lua": true, "tclsh": true, "deno": true, "bun": true, "Rscript": true,
	"pwsh": true, "awk": true, "gawk": true, "mawk": true, "nawk": true, "osascript": true, "irb": true, "jshell": true, "expect": true}

func isInterpreter(name string) bool {
	if interpreters[name] {
		return true
	}
	for _, p := range []string{"python", "perl", "ruby", "php", "lua", "node"} {
		if strings.HasPrefix(name, p) && strings.Trim(name[len(p):], "0123456789.") == "" {
			return true
		}
	}
	return false
}

// endless reports whether a while/until loop's condition is a constant
// true (while true, while :, until false).
func endless(c *syntax.WhileClause) bool {
	if len(c.Cond) != 1 {
		return false
	}
	ce, ok := c.Cond[0].Cmd.(*syntax.CallExpr)
	if !ok || len(ce.Args) != 1 {
		return false
	}
	v := ce.Args[0].Lit()
	if c.Until {
		return v == "false"
	}
	return v == "true" || v == ":"
}

func hasBackground(list []*syntax.Stmt) bool {
	found := false
	for _, s := range list {
		syntax.Walk(s, func(n syntax.Node) bool {
			if st, ok := n.(*syntax.Stmt); ok && st.Background {
				found = true
			}
			return !found
		})
	}
	return found
}

// forkBomb refuses a function that (directly or through other functions of
// the same script) calls itself and starts processes in a pipeline or in
// the background: :(){ :|:& };: and its renamed variants.
func forkBomb(f *syntax.File) *Refusal {
	funcs := map[string]*syntax.FuncDecl{}
	syntax.Walk(f, func(n syntax.Node) bool {
		if fd, ok := n.(*syntax.FuncDecl); ok && fd.Name != nil {
			funcs[fd.Name.Value] = fd
		}
		return true
	})
	calls := map[string]map[string]bool{}
	spawns := map[string]bool{}
	for name, fd := range funcs {
		calls[name] = map[string]bool{}
		syntax.Walk(fd.Body, func(n syntax.Node) bool {
			switch x := n.(type) {
			case *syntax.CallExpr:
				if len(x.Args) > 0 {
					calls[name][litOrQuoted(x.Args[0])] = true
				}
			case *syntax.Stmt:
				if x.Background {
					spawns[name] = true
				}
			case *syntax.BinaryCmd:
				if x.Op == syntax.Pipe || x.Op == syntax.PipeAll {
					spawns[name] = true
				}
			}
			return true
		})
	}
	for name := range funcs {
		if !spawns[name] {
			continue
		}
		// Is name reachable from itself?
		seen := map[string]bool{}
		todo := []string{name}
		for len(todo) > 0 {
			cur := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			for callee := range calls[cur] {
				if callee == name {
					return refuse("fork-bomb", "function %q calls itself and starts processes in a pipeline or the background: a fork bomb; yolo mode refuses it", name)
				}
				if _, ok := funcs[callee]; ok && !seen[callee] {
					seen[callee] = true
					todo = append(todo, callee)
				}
			}
		}
	}
	return nil
}

// writeOps are the redirections that open their target for writing.
var writeOps = map[syntax.RedirOperator]bool{syntax.RdrOut: true, syntax.AppOut: true, syntax.RdrClob: true,
	syntax.AppClob: true, syntax.RdrAll: true, syntax.AppAll: true, syntax.RdrAllClob: true, syntax.AppAllClob: true, syntax.RdrInOut: true}

func (a *analyzer) redirect(rd *syntax.Redirect, st *state, depth int) *Refusal {
	for _, w := range []*syntax.Word{rd.Word, rd.Hdoc} {
		if w == nil {
			continue
		}
		if r := a.substs(st, depth, w); r != nil {
			return r
		}
	}
	write := writeOps[rd.Op]
	if rd.Op == syntax.DplOut && rd.Word != nil {
		// >&2 duplicates a descriptor; >&file (no digits) writes a file.
		v := rd.Word.Lit()
		write = v != "" && strings.Trim(v, "0123456789-") != ""
	}
	if !write || rd.Word == nil {
		return nil
	}
	t := wordArg(rd.Word, a.tilde())
	if !t.lit {
		return refuse("dynamic-target", "the redirection target %s is computed when the command runs, so yolo mode cannot tell where it writes; write the file name literally", t.val)
	}
	return a.writeTarget("redirection >", t, st)
}

// writeTarget refuses writing to t when it is a block device or outside the
// workspace. Character devices that are harmless sinks are fine.
func (a *analyzer) writeTarget(what string, t arg, st *state) *Refusal {
	if !t.lit {
		return refuse("dynamic-target", "%s writes to %s, which is computed when the command runs; yolo mode cannot tell where it writes, so write the path literally", what, t.val)
	}
	p := t.val
	if t.glob {
		p = globBase(p)
	}
	if !filepath.IsAbs(p) && st.cwd == "" {
		return refuse("dynamic-target", "%s writes to %q after a cd yolo mode could not follow; use a path relative to the workspace without cd, or an absolute path inside it", what, t.val)
	}
	cwd := st.cwd
	if cwd == "" {
		cwd = a.ws
	}
	lex := filepath.Clean(filepath.Join(cwd, p))
	if filepath.IsAbs(p) {
		lex = filepath.Clean(p)
	}
	if blockDevice(lex) {
		return refuse("block-device", "%s writes to the device %s, which would destroy a disk; yolo mode never allows it", what, lex)
	}
	switch {
	case lex == "/dev/null", lex == "/dev/zero", lex == "/dev/full", lex == "/dev/stdout", lex == "/dev/stderr", lex == "/dev/tty",
		strings.HasPrefix(lex, "/dev/fd/"), strings.HasPrefix(lex, "/proc/self/fd/"),
		strings.HasPrefix(lex, "/dev/tcp/"), strings.HasPrefix(lex, "/dev/udp/"): // bash's sockets, not files
		return nil
	}
	res := resolve(p, cwd)
	if blockDevice(res) {
		return refuse("block-device", "%s writes to %s, a disk device, which would destroy it; yolo mode never allows it", what, res)
	}
	if !within(res, a.ws) {
		return refuse("outside-workspace", "%s writes to %s, outside the workspace %s; write inside the workspace", what, res, a.ws)
	}
	return nil
}

var blockPrefixes = []string{"/dev/sd", "/dev/hd", "/dev/vd", "/dev/xvd", "/dev/nvme", "/dev/mmcblk", "/dev/loop",
	"/dev/dm-", "/dev/md", "/dev/mapper/", "/dev/disk/", "/dev/sr", "/dev/nbd", "/dev/zram", "/dev/mtd", "/dev/ram", "/dev/bcache", "/dev/rbd", "/dev/mem", "/dev/kmem", "/dev/port"}

func blockDevice(p string) bool {
	for _, b := range blockPrefixes {
		if strings.HasPrefix(p, b) {
			return true
		}
	}
	return false
}
