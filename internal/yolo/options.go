package yolo

import (
	"sort"
	"strings"
)

// Safe mode's option tables: each allowed program's options parsed the way
// the program parses them, so that what the check sees is what the
// program does. GNU getopt_long accepts any unique prefix of a long option
// (sort --compress=sh is --compress-program=sh), --opt=value and --opt
// value, and clusters of short options with a value glued to the last
// (-rno FILE, -oFILE). An option that is not in a program's table is
// refused: only options known to be read-only run.

// optStyle is how a program parses its command line.
type optStyle int

const (
	gnuStyle  optStyle = iota // getopt_long with argument permutation
	goStyle                   // Go's flag package: -name, --name, -name=value, no clusters or prefixes
	textStyle                 // no options: every argument is text (echo, true, false)
)

// optSpec is one program's options. Denied and direct-refused options must
// also be listed in short or long, so that prefixes resolve against every
// option the program has that the table knows.
type optSpec struct {
	style optStyle
	// short holds getopt letters: "x" a flag, "x:" takes a value (glued or
	// the next argument), "x;" takes an optional glued value.
	short string
	// long holds space-separated names: "name" a flag, "name=" takes a
	// value (=value or the next argument), "name?" takes an optional
	// =value.
	long string
	// digits: -NUM is an option (head -5, grep -3).
	digits bool
	// nextArg: a short option's value is always the next argument, and the
	// cluster goes on after it (tree: -Lo 2 F is -L 2 -o F).
	nextArg bool
	// deny: options never allowed, and why ("-o", "--output").
	deny map[string]string
	// direct: options refused where commands run without the sandbox
	// because they follow symbolic links or read names from a file, so
	// they can reach files outside the workspace that no argument names.
	direct map[string]string
}

// opt is one option as the program will see it.
type opt struct {
	name  string // canonical: "-x" or "--name"
	value string
	given string // as written, for messages
}

// parsedArgs are a command line split the way the program splits it.
type parsedArgs struct {
	opts     []opt
	operands []string
}

// parseOpts splits argv[1:] by spec, refusing unknown, ambiguous and
// malformed options.
func parseOpts(prog string, spec optSpec, args []string) (parsedArgs, *Refusal) {
	var p parsedArgs
	if spec.style == textStyle {
		p.operands = args
		return p, nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			p.operands = append(p.operands, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			p.operands = append(p.operands, a)
			continue
		}
		if spec.style == goStyle {
			n, r := spec.goFlag(prog, args, i)
			if r != nil {
				return p, r
			}
			p.opts = append(p.opts, n.o)
			i += n.skip
			continue
		}
		if strings.HasPrefix(a, "--") {
			o, skip, r := spec.longOpt(prog, args, i)
			if r != nil {
				return p, r
			}
			p.opts = append(p.opts, o)
			i += skip
			continue
		}
		os, skip, r := spec.shortOpts(prog, args, i)
		if r != nil {
			return p, r
		}
		p.opts = append(p.opts, os...)
		i += skip
	}
	return p, nil
}

// longNames returns the spec's long options: name to its arity suffix
// ("", "=", "?").
func (s optSpec) longNames() map[string]string {
	out := map[string]string{}
	for _, f := range strings.Fields(s.long) {
		switch last := f[len(f)-1]; last {
		case '=', '?':
			out[f[:len(f)-1]] = string(last)
		default:
			out[f] = ""
		}
	}
	return out
}

func (s optSpec) longOpt(prog string, args []string, i int) (opt, int, *Refusal) {
	a := args[i]
	name, val, hasVal := strings.Cut(a[2:], "=")
	names := s.longNames()
	arity, ok := names[name]
	if !ok {
		// getopt_long: an exact match wins, else a unique prefix.
		var cands []string
		for n := range names {
			if strings.HasPrefix(n, name) {
				cands = append(cands, n)
			}
		}
		sort.Strings(cands)
		switch len(cands) {
		case 0:
			return opt{}, 0, refuse("unknown-option", "%s option --%s is not one safe mode knows to be read-only; leave it out (allowed: %s)", prog, name, s.allowedText())
		case 1:
			name, arity = cands[0], names[cands[0]]
		default:
			return opt{}, 0, refuse("unknown-option", "%s option --%s is ambiguous (it abbreviates --%s); write the option in full", prog, name, strings.Join(cands, ", --"))
		}
	}
	o := opt{name: "--" + name, given: a}
	switch {
	case arity == "" && hasVal:
		return opt{}, 0, refuse("unknown-option", "%s option --%s takes no value, but %q gives one; leave the value out", prog, name, a)
	case arity == "=" && !hasVal:
		if i+1 >= len(args) {
			return opt{}, 0, refuse("unknown-option", "%s option --%s needs a value", prog, name)
		}
		o.value = args[i+1]
		return o, 1, nil
	}
	o.value = val
	return o, 0, nil
}

func (s optSpec) shortOpts(prog string, args []string, i int) ([]opt, int, *Refusal) {
	a := args[i]
	var out []opt
	used := 0 // arguments after a taken as values
	for j := 1; j < len(a); j++ {
		c := a[j]
		if s.digits && c >= '0' && c <= '9' {
			out = append(out, opt{name: "-N", given: a})
			continue
		}
		k := strings.IndexByte(s.short, c)
		if k < 0 || c == ':' || c == ';' {
			return nil, 0, refuse("unknown-option", "%s option -%c (in %q) is not one safe mode knows to be read-only; leave it out (allowed: %s)", prog, c, a, s.allowedText())
		}
		o := opt{name: "-" + string(c), given: a}
		next := byte(0)
		if k+1 < len(s.short) {
			next = s.short[k+1]
		}
		switch {
		case next == ':' && s.nextArg:
			if i+1+used >= len(args) {
				return nil, 0, refuse("unknown-option", "%s option -%c needs a value", prog, c)
			}
			used++
			o.value = args[i+used]
			out = append(out, o)
			continue
		case next == ':':
			if j+1 < len(a) {
				o.value = a[j+1:]
				return append(out, o), 0, nil
			}
			if i+1 >= len(args) {
				return nil, 0, refuse("unknown-option", "%s option -%c needs a value", prog, c)
			}
			o.value = args[i+1]
			return append(out, o), 1, nil
		case next == ';':
			o.value = a[j+1:]
			return append(out, o), 0, nil
		}
		out = append(out, o)
	}
	return out, used, nil
}

type goFlagAt struct {
	o    opt
	skip int
}

// goFlag parses one flag the way Go's flag package does: one or two
// dashes, the exact name, =value or (for a non-boolean) the next argument.
func (s optSpec) goFlag(prog string, args []string, i int) (goFlagAt, *Refusal) {
	a := args[i]
	name, val, hasVal := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
	arity, ok := s.longNames()[name]
	if !ok {
		return goFlagAt{}, refuse("unknown-option", "%s flag -%s is not one safe mode knows to be harmless; leave it out (allowed: %s)", prog, name, s.allowedText())
	}
	o := opt{name: "--" + name, given: a, value: val}
	if arity == "=" && !hasVal {
		if i+1 >= len(args) {
			return goFlagAt{}, refuse("unknown-option", "%s flag -%s needs a value", prog, name)
		}
		o.value = args[i+1]
		return goFlagAt{o, 1}, nil
	}
	return goFlagAt{o: o}, nil
}

// allowedText lists the allowed options for a refusal message.
func (s optSpec) allowedText() string {
	var out []string
	for n := range s.longNames() {
		if _, bad := s.deny["--"+n]; !bad {
			out = append(out, "--"+n)
		}
	}
	sort.Strings(out)
	var short []byte
	for i := 0; i < len(s.short); i++ {
		c := s.short[i]
		if c == ':' || c == ';' {
			continue
		}
		if _, bad := s.deny["-"+string(c)]; !bad {
			short = append(short, c)
		}
	}
	if len(short) > 0 {
		out = append([]string{"-" + string(short)}, out...)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, " ")
}

// checkOpts refuses denied options, and direct-refused ones when the
// command will run without the sandbox.
func (s optSpec) checkOpts(prog string, p parsedArgs, sandboxed bool) *Refusal {
	for _, o := range p.opts {
		if why, bad := s.deny[o.name]; bad {
			return refuse("not-read-only", "%s %s (written %q) %s, which safe mode does not allow; leave it out", prog, o.name, o.given, why)
		}
		if why, bad := s.direct[o.name]; bad && !sandboxed {
			return refuse("needs-sandbox", "%s %s (written %q) %s; without the sandbox that could reach files outside the workspace, so it is refused here", prog, o.name, o.given, why)
		}
	}
	return nil
}

const (
	follows   = "follows symbolic links"
	nameFiles = "reads the names of files to open from a file"
)

// common GNU options every coreutils program takes.
const gnuCommon = " help version"

// optionTables are the option specs of safe mode's programs (git and find
// have parsers of their own, in safe.go).
var optionTables = map[string]optSpec{
	"echo":  {style: textStyle},
	"true":  {style: textStyle},
	"false": {style: textStyle},
	"pwd":   {short: "LP", long: "logical physical" + gnuCommon},
	"ls": {short: "aAbBcCdfFgGhHiklLmnNopqQrRsStuUvxXZ1I:T:w:D",
		long: "all almost-all author escape block-size= ignore-backups color? directory dired classify? file-type format= full-time " +
			"group-directories-first no-group human-readable si dereference-command-line dereference-command-line-symlink-to-dir hide= " +
			"hyperlink? indicator-style= inode ignore= kibibytes dereference literal numeric-uid-gid hide-control-chars show-control-chars " +
			"quote-name quoting-style= reverse recursive size sort= time= time-style= tabsize= width= context zero" + gnuCommon,
		direct: map[string]string{"-L": follows, "--dereference": follows}},
	"cat":  {short: "AbeEnstTuv", long: "show-all number-nonblank show-ends number squeeze-blank show-tabs show-nonprinting" + gnuCommon},
	"head": {short: "c:n:qvz", digits: true, long: "bytes= lines= quiet silent verbose zero-terminated" + gnuCommon},
	"tail": {short: "c:fFn:qs:vz", digits: true,
		long: "bytes= follow? lines= max-unchanged-stats= pid= quiet silent retry sleep-interval= verbose zero-terminated" + gnuCommon},
	"wc": {short: "clmwL", long: "bytes chars lines max-line-length words total= files0-from=" + gnuCommon,
		deny: map[string]string{"--files0-from": nameFiles}},
	"stat": {short: "Lfc:t", long: "dereference file-system cached= format= printf= terse" + gnuCommon},
	"du": {short: "0abB:cDd:HhkLlmPSst:xX:",
		long: "null all apparent-size block-size= bytes total dereference-args max-depth= human-readable inodes dereference count-links " +
			"no-dereference separate-dirs si summarize threshold= time? time-style= exclude-from= exclude= one-file-system files0-from=" + gnuCommon,
		deny:   map[string]string{"--files0-from": nameFiles},
		direct: map[string]string{"-L": follows, "--dereference": follows}},
	"cut":      {short: "b:c:d:f:nsz", long: "bytes= characters= delimiter= fields= complement only-delimited output-delimiter= zero-terminated" + gnuCommon},
	"cmp":      {short: "bi:ln:sv", long: "print-bytes ignore-initial= verbose bytes= quiet silent" + gnuCommon},
	"basename": {short: "as:z", long: "multiple suffix= zero" + gnuCommon},
	"dirname":  {short: "z", long: "zero" + gnuCommon},
	"realpath": {short: "eEmLPqsz",
		long: "canonicalize-existing canonicalize-missing logical physical quiet relative-to= relative-base= strip no-symlinks zero" + gnuCommon},
	"md5sum":    sumSpec,
	"sha1sum":   sumSpec,
	"sha256sum": sumSpec,
	"diff": {short: "abBcC:dD:eEfF:iI:lnNpPqrsS:tTuU:wx:X:yZ0123456789",
		long: "normal brief report-identical-files context? unified? ed rcs side-by-side width= left-column suppress-common-lines " +
			"show-c-function show-function-line= label= expand-tabs initial-tab tabsize= suppress-blank-empty paginate recursive " +
			"no-dereference new-file unidirectional-new-file ignore-file-name-case no-ignore-file-name-case exclude= exclude-from= " +
			"starting-file= from-file= to-file= ignore-case ignore-tab-expansion ignore-trailing-space ignore-space-change " +
			"ignore-all-space ignore-blank-lines ignore-matching-lines= text strip-trailing-cr ifdef= old-group-format= " +
			"new-group-format= unchanged-group-format= changed-group-format= line-format= old-line-format= new-line-format= " +
			"unchanged-line-format= minimal horizon-lines= speed-large-files color? palette= no-dereference" + gnuCommon,
		deny:   map[string]string{"-l": "runs pr", "--paginate": "runs pr"},
		direct: map[string]string{"-r": "recurses and " + follows, "--recursive": "recurses and " + follows}},
	"grep":  grepSpec,
	"egrep": grepSpec,
	"fgrep": grepSpec,
	"rg": {short: "iSsFwxvcClnNHIe:g:t:T:A:B:C:m:d:uL0aoqj:M:E:",
		long: "ignore-case case-sensitive smart-case fixed-strings word-regexp line-regexp invert-match count count-matches files " +
			"files-with-matches files-without-match line-number no-line-number with-filename no-filename no-ignore no-ignore-vcs " +
			"no-ignore-parent no-ignore-dot hidden glob= iglob= type= type-not= before-context= after-context= context= " +
			"max-count= max-depth= max-filesize= json only-matching text null follow regexp= multiline vimgrep heading no-heading " +
			"column no-column sort= sortr= stats trim color= colors= unrestricted quiet threads= encoding= max-columns= " +
			"pre= pre-glob= search-zip" + gnuCommon,
		deny: map[string]string{"--pre": "runs a program on every file", "--pre-glob": "runs a program on every file",
			"--search-zip": "runs decompression programs", "-z": "runs decompression programs"},
		direct: map[string]string{"-L": follows, "--follow": follows}},
	"sort": {short: "bdfgiMhnRrVcCk:mst:T:uzS:o:",
		long: "ignore-leading-blanks dictionary-order ignore-case general-numeric-sort ignore-nonprinting month-sort " +
			"human-numeric-sort numeric-sort random-sort random-source= reverse sort= version-sort batch-size= check? key= merge " +
			"zero-terminated field-separator= stable buffer-size= unique parallel= debug output= compress-program= " +
			"temporary-directory= files0-from=" + gnuCommon,
		deny: map[string]string{"-o": "writes a file", "--output": "writes a file", "--compress-program": "runs a program",
			"-T": "writes temporary files in a directory", "--temporary-directory": "writes temporary files in a directory",
			"--files0-from": nameFiles}},
	"file": {short: "bcEhikLNnrsv0e:F:m:P:C",
		long: "brief checking-printout exclude= exclude-quiet= extension mime mime-type mime-encoding keep-going list dereference " +
			"no-dereference magic-file= no-pad no-buffer raw separator= special-files print0 parameter= apple compile" + gnuCommon,
		deny: map[string]string{"-C": "writes a magic file", "--compile": "writes a magic file"}},
	"tree": {short: "adlfxL:P:I:ACDFginNpqQrstuhvJXo:R", nextArg: true,
		long: "noreport charset= filelimit= dirsfirst filesfirst prune gitignore matchdirs ignore-case du si timefmt= sort= " +
			"noindent fromfile" + gnuCommon,
		deny:   map[string]string{"-o": "writes a file", "-R": "writes 00Tree.html files", "--fromfile": "reads the listing from a file"},
		direct: map[string]string{"-l": follows}},
	"uniq": {short: "cdDf:is:uw:z",
		long: "count repeated all-repeated? skip-fields= ignore-case skip-chars= unique zero-terminated check-chars= group?" + gnuCommon},
	"go": {style: goStyle,
		long: "v x n a race msan asan cover covermode= coverpkg= coverprofile= cpu= count= failfast json list= parallel= run= skip= " +
			"short shuffle= timeout= bench= benchtime= benchmem p= tags= mod= modfile= trimpath buildvcs= ldflags= gcflags= asmflags= " +
			"o= C= fuzz= fuzztime= vet= outputdir= cpuprofile= memprofile= blockprofile= mutexprofile= trace= buildmode= " +
			"compiler= installsuffix= linkshared pgo= work args exec= toolexec= vettool= overlay=",
		deny: map[string]string{"--exec": "runs an arbitrary program", "--toolexec": "runs an arbitrary program",
			"--vettool": "runs an arbitrary program", "--overlay": "maps source files to arbitrary files"}},
}

var sumSpec = optSpec{short: "bctwz", long: "binary check tag text ignore-missing quiet status strict warn zero" + gnuCommon,
	direct: map[string]string{"-c": nameFiles, "--check": nameFiles}}

var grepSpec = optSpec{short: "EFGPe:f:ivwxyclLm:obhHnqsTZzA:B:C:aIrRUd:D:", digits: true,
	long: "extended-regexp fixed-strings basic-regexp perl-regexp regexp= file= ignore-case no-ignore-case word-regexp line-regexp " +
		"null-data no-messages invert-match max-count= byte-offset line-number no-line-number line-buffered with-filename " +
		"no-filename label= only-matching quiet silent binary-files= text directories= devices= recursive dereference-recursive " +
		"include= exclude= exclude-from= exclude-dir= files-without-match files-with-matches count initial-tab null " +
		"before-context= after-context= context= color? colour? binary" + gnuCommon,
	direct: map[string]string{"-R": follows, "--dereference-recursive": follows,
		"-d": "may recurse and follow links", "--directories": "may recurse and follow links"}}
