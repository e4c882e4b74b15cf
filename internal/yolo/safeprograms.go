package yolo

import "strings"

// safePrograms are the read-only programs safe mode runs, each with the
// check of its arguments beyond the workspace path rule: its options
// parsed as the program parses them against its table (options.go), any
// option not in the table refused, and program-specific rules (find's
// expression, git's subcommands, uniq's output operand, go's subcommand).
var safePrograms = map[string]func(argv []string) *Refusal{}

func init() {
	for prog, spec := range optionTables {
		safePrograms[prog] = func(argv []string) *Refusal {
			p, r := parseOpts(argv[0], spec, argv[1:])
			if r != nil {
				return r
			}
			return spec.checkOpts(argv[0], p, true)
		}
	}
	uniq := safePrograms["uniq"]
	safePrograms["uniq"] = func(argv []string) *Refusal {
		if r := uniq(argv); r != nil {
			return r
		}
		if p, _ := parseOpts("uniq", optionTables["uniq"], argv[1:]); len(p.operands) > 1 {
			return refuse("not-read-only", "uniq with a second file operand writes to it, which safe mode does not allow; give one input file")
		}
		return nil
	}
	goOpts := safePrograms["go"]
	safePrograms["go"] = func(argv []string) *Refusal {
		sub := ""
		if len(argv) > 1 {
			sub = argv[1]
		}
		switch sub {
		case "test", "vet", "build":
		default:
			return refuse("not-allowed", "go %q is not allowed in safe mode; it runs go test, go vet and go build", sub)
		}
		return goOpts(append([]string{"go " + sub}, argv[2:]...))
	}
	safePrograms["find"] = func(argv []string) *Refusal {
		_, r := findArgs(argv)
		return r
	}
	safePrograms["git"] = checkGit
}

// findPrimaries are the find expression words safe mode allows, each with
// the number of arguments it takes. find has no abbreviations.
var findPrimaries = map[string]int{
	"-name": 1, "-iname": 1, "-path": 1, "-ipath": 1, "-wholename": 1, "-iwholename": 1, "-regex": 1, "-iregex": 1,
	"-regextype": 1, "-type": 1, "-xtype": 1, "-size": 1, "-empty": 0, "-newer": 1, "-anewer": 1, "-cnewer": 1,
	"-mtime": 1, "-atime": 1, "-ctime": 1, "-mmin": 1, "-amin": 1, "-cmin": 1, "-used": 1, "-perm": 1, "-user": 1,
	"-group": 1, "-uid": 1, "-gid": 1, "-nouser": 0, "-nogroup": 0, "-links": 1, "-inum": 1, "-samefile": 1,
	"-lname": 1, "-ilname": 1, "-readable": 0, "-writable": 0, "-executable": 0, "-maxdepth": 1, "-mindepth": 1,
	"-depth": 0, "-d": 0, "-mount": 0, "-xdev": 0, "-prune": 0, "-print": 0, "-print0": 0, "-printf": 1, "-ls": 0,
	"-true": 0, "-false": 0, "-not": 0, "-a": 0, "-and": 0, "-o": 0, "-or": 0, "-quit": 0, "-noleaf": 0,
	"-ignore_readdir_race": 0, "-noignore_readdir_race": 0, "-daystart": 0, "-fstype": 1, "-context": 1,
	"(": 0, ")": 0, "!": 0, ",": 0, "-follow": 0, "-help": 0, "--help": 0, "-version": 0, "--version": 0,
	"-newermm": 1, "-newerma": 1, "-newermc": 1, "-newerBm": 1, "-newermt": 1, "-newerat": 1, "-newerct": 1, "-newerBt": 1,
}

// findRefused are find's primaries that run, delete or write.
var findRefused = map[string]string{
	"-exec": "runs other programs", "-execdir": "runs other programs", "-ok": "runs other programs", "-okdir": "runs other programs",
	"-delete": "deletes files", "-fprint": "writes a file", "-fprint0": "writes a file", "-fprintf": "writes a file", "-fls": "writes a file",
	"-files0-from": "reads the start points from a file",
}

// findArgs checks find's command line and reports whether it follows
// symbolic links (-L, -follow), which matters without the sandbox.
func findArgs(argv []string) (follow bool, r *Refusal) {
	i := 1
opts: // options before the start points
	for ; i < len(argv); i++ {
		switch a := argv[i]; {
		case a == "-L":
			follow = true
		case a == "-H" || a == "-P" || strings.HasPrefix(a, "-O"):
		case a == "-D" && i+1 < len(argv):
			i++
		default:
			break opts
		}
	}
	for i < len(argv) && !(strings.HasPrefix(argv[i], "-") || argv[i] == "(" || argv[i] == "!") {
		i++ // start points
	}
	for ; i < len(argv); i++ {
		a := argv[i]
		if why, bad := findRefused[a]; bad {
			return follow, refuse("not-read-only", "find %s %s, which safe mode does not allow; use find to list files and run the next command separately", a, why)
		}
		n, ok := findPrimaries[a]
		if !ok {
			return follow, refuse("unknown-option", "find %s is not a find expression safe mode knows to be read-only; use tests such as -name, -type, -size, -mtime and actions -print, -printf, -ls", a)
		}
		if a == "-follow" {
			follow = true
		}
		i += n
	}
	return follow, nil
}

// gitRead are the git subcommands safe mode runs, with their options.
// git's parse-options also accepts unique prefixes of long options.
var gitRead = map[string]optSpec{
	"status": {short: "sbvzu;", long: "short branch show-stash porcelain? long verbose untracked-files? ignore-submodules? ignored? " +
		"column? no-column ahead-behind no-ahead-behind renames no-renames find-renames? null"},
	"diff": {short: gitDiffShort, long: gitDiffLong + " cached staged merge-base no-index", deny: gitDeny},
	"log":  {short: gitDiffShort + gitLogShort, digits: true, long: gitDiffLong + gitLogLong, deny: gitDeny},
	"show": {short: gitDiffShort + gitLogShort, digits: true, long: gitDiffLong + gitLogLong, deny: gitDeny},
	"branch": {short: "lavrqidDmMcCfut:", long: "list all remotes verbose quiet contains? no-contains? merged? no-merged? points-at= sort= " +
		"format= color? no-color column? no-column abbrev? no-abbrev show-current ignore-case omit-empty delete move copy force " +
		"track? no-track set-upstream-to= unset-upstream edit-description create-reflog recurse-submodules",
		deny: branchChanges},
	"rev-parse": {short: "q", long: "git-dir show-toplevel abbrev-ref? short? verify quiet symbolic symbolic-full-name " +
		"is-inside-work-tree is-inside-git-dir is-bare-repository is-shallow-repository show-prefix show-cdup git-common-dir " +
		"absolute-git-dir all branches? tags? remotes? glob= exclude= default= revs-only no-revs flags no-flags sq local-env-vars " +
		"path-format= show-object-format? show-ref-format show-superproject-working-tree shared-index-path since= until= after= " +
		"before= resolve-git-dir= git-path= prefix= disambiguate="},
}

const (
	gitDiffShort = "pusU:zB;M;C;Dl;S:G:O:RawbWI:X;"
	gitLogShort  = "n:iEFPmcrt"
	gitDiffLong  = "patch no-patch unified= raw patch-with-raw patch-with-stat indent-heuristic no-indent-heuristic minimal patience " +
		"histogram anchored= diff-algorithm= stat? stat-width= stat-name-width= stat-graph-width= stat-count= compact-summary " +
		"numstat shortstat dirstat? cumulative dirstat-by-file? summary name-only name-status submodule? color? no-color " +
		"color-moved? no-color-moved color-moved-ws= word-diff? word-diff-regex= color-words? no-renames rename-empty " +
		"no-rename-empty check ws-error-highlight= full-index binary abbrev? break-rewrites? find-renames? find-copies? " +
		"find-copies-harder irreversible-delete diff-filter= find-object= pickaxe-all pickaxe-regex skip-to= rotate-to= relative? " +
		"no-relative text ignore-cr-at-eol ignore-space-at-eol ignore-space-change ignore-all-space ignore-blank-lines " +
		"ignore-matching-lines= inter-hunk-context= function-context exit-code quiet no-ext-diff no-textconv ignore-submodules? " +
		"src-prefix= dst-prefix= no-prefix default-prefix line-prefix= output-indicator-new= output-indicator-old= " +
		"output-indicator-context= output= ext-diff textconv"
	gitLogLong = " max-count= skip= since= after= until= before= author= committer= grep= all-match invert-grep regexp-ignore-case " +
		"extended-regexp fixed-strings perl-regexp basic-regexp merges no-merges min-parents= max-parents= no-min-parents " +
		"no-max-parents first-parent all branches? tags? remotes? glob= exclude= oneline pretty? format= abbrev-commit " +
		"no-abbrev-commit encoding= expand-tabs? no-expand-tabs notes? no-notes show-notes? relative-date date= parents children " +
		"left-right graph decorate? no-decorate decorate-refs= decorate-refs-exclude= source follow reverse topo-order date-order " +
		"author-date-order boundary simplify-by-decoration full-history dense sparse simplify-merges ancestry-path? cherry-pick " +
		"cherry-mark cherry left-only right-only walk-reflogs merge no-walk? do-walk log-size mailmap use-mailmap no-mailmap " +
		"no-use-mailmap max-age= min-age= no-diff-merges diff-merges= combined-all-paths remerge-diff cc show-signature"
)

var branchChanges = map[string]string{}

func init() {
	for _, o := range strings.Fields("-d -D -m -M -c -C -f -u -t --delete --move --copy --force --track --no-track --set-upstream-to --unset-upstream --edit-description --create-reflog --recurse-submodules") {
		branchChanges[o] = "changes branches; safe mode only lists them"
	}
}

var gitDeny = map[string]string{"--output": "writes a file", "--ext-diff": "runs an external diff program",
	"--textconv": "runs the repository's textconv programs", "--show-signature": "runs gpg"}

// gitGlobalsAllowed are git's global options (before the subcommand) that
// safe mode lets through; -C DIR takes a value.
var gitGlobalsAllowed = map[string]bool{"-C": true, "--no-pager": true, "--literal-pathspecs": true, "--glob-pathspecs": true,
	"--noglob-pathspecs": true, "--icase-pathspecs": true, "--no-optional-locks": true, "--no-replace-objects": true}

// gitNeutral goes before every git subcommand: no pager, and repository
// configuration that would run a program (fsmonitor, external diff, hooks,
// pagers, credential helpers, ssh, and gpg, which signature checks and the
// %G? placeholders of --format run) switched off.
var gitNeutral = []string{"--no-pager", "-c", "core.fsmonitor=", "-c", "core.pager=cat", "-c", "diff.external=",
	"-c", "core.hooksPath=/dev/null", "-c", "log.showSignature=false", "-c", "core.sshCommand=false",
	"-c", "protocol.allow=never", "-c", "core.askPass=false", "-c", "credential.helper=",
	"-c", "gpg.program=false", "-c", "gpg.openpgp.program=false", "-c", "gpg.x509.program=false", "-c", "gpg.ssh.program=false"}

// gitArgv checks git's global options and returns argv with the
// neutralising options inserted.
func gitArgv(argv []string) ([]string, *Refusal) {
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if !strings.HasPrefix(a, "-") {
			break
		}
		for _, f := range []string{"-c", "--config-env", "--exec-path", "--upload-pack", "--receive-pack", "--git-dir", "--work-tree", "--namespace", "-p", "--paginate", "--super-prefix", "--list-cmds"} {
			if a == f || strings.HasPrefix(a, f+"=") {
				return nil, refuse("git-option", "git %s changes which configuration, programs or repository git uses; leave it out (use git -C DIR to pick a repository in the workspace)", f)
			}
		}
		if !gitGlobalsAllowed[a] {
			return nil, refuse("git-option", "git %s is not a global option safe mode lets through (allowed: %s)", a, strings.Join(sortedKeys(gitGlobalsAllowed), " "))
		}
		if a == "-C" {
			i++
		}
	}
	out := append([]string{argv[0]}, gitNeutral...)
	return append(out, argv[1:]...), nil
}

func checkGit(argv []string) *Refusal {
	if _, r := gitArgv(argv); r != nil {
		return r
	}
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
	spec, ok := gitRead[sub]
	if !ok {
		return refuse("not-allowed", "git %q is not one of the read-only git commands safe mode runs (%s)", sub, strings.Join(sortedKeys(gitRead), ", "))
	}
	p, r := parseOpts("git "+sub, spec, rest)
	if r != nil {
		return r
	}
	if r := spec.checkOpts("git "+sub, p, true); r != nil {
		return r
	}
	if sub == "branch" && len(p.operands) > 0 {
		listing := false
		for _, o := range p.opts {
			switch o.name {
			case "--list", "-l", "-a", "-r", "--all", "--remotes", "--contains", "--no-contains", "--merged", "--no-merged", "--points-at":
				listing = true
			}
		}
		if !listing {
			return refuse("not-read-only", "git branch %s would create a branch; safe mode only lists them (git branch --list PATTERN)", p.operands[0])
		}
	}
	return nil
}
