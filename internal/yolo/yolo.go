package yolo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Mode is how much a command may do; the operator picks it when turning
// command execution on.
type Mode string

// The modes, from most to least confined. See the package doc for exactly
// what each permits.
const (
	// Safe runs read-only programs from a built-in allowlist, without a shell.
	Safe Mode = "safe"
	// Restricted is Safe plus the operator's Policy.Allow patterns, minus
	// Policy.Deny, still without a shell.
	Restricted Mode = "restricted"
	// YOLO runs the text with bash -c after refusing the hard deny list and
	// Policy.Deny.
	YOLO Mode = "yolo"
)

// Policy is what an operator configured beyond the built-in rules.
//
// A pattern is a list of words separated by spaces, matched word for word
// against the command's argv (in yolo mode, against every simple command the
// analysis finds, with the program's directory stripped). Each word is a
// wildcard for one argument ("*" any one argument, "v*" any argument
// starting with v, "?" any one character, everything else literal); a final
// word "*" matches any number
// of remaining arguments, including none. So "make test" allows exactly
// make test, "npm run *" allows npm run with anything after it, and
// "go test ./..." allows only that.
type Policy struct {
	// Allow holds restricted mode's extra allowed command patterns.
	Allow []string
	// Deny holds extra denied patterns for restricted and yolo mode, checked
	// on top of the hard deny list. Deny wins over Allow.
	Deny []string
}

// Plan is a command that passed Check.
type Plan struct {
	Mode Mode
	// Text is the command as given.
	Text string
	// Argv is, in safe and restricted mode, the program and its arguments
	// (run without a shell; git gets its neutralising options inserted); in
	// yolo mode the shell invocation: bash --norc --noprofile -c Text.
	Argv []string
	// Program is the base name of the program, for audit rows; in yolo mode
	// the first program the script runs ("bash" when it runs none).
	Program string
}

// Refusal is why Check (or Run) would not run a command. The message is for
// the caller, usually an AI model: which rule refused and what is allowed
// instead.
type Refusal struct {
	// Rule is a short stable name of the rule that refused, such as
	// "shell-syntax", "outside-workspace" or "recursive-delete"; fit for an
	// audit row's error kind.
	Rule string
	// Message explains the refusal and what to do instead.
	Message string
}

// Error implements error.
func (r *Refusal) Error() string {
	return "refused by rule " + r.Rule + ": " + r.Message
}

func refuse(rule, format string, args ...any) *Refusal {
	return &Refusal{Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// Spec is one command to run.
type Spec struct {
	// Plan is what Check returned.
	Plan Plan
	// Workspace is the working directory, as returned by Workspace.
	Workspace string
	// Timeout bounds the run; zero means no limit other than ctx.
	Timeout time.Duration
	// MaxOutput is how many bytes of combined stdout and stderr are kept;
	// zero means DefaultMaxOutput.
	MaxOutput int
	// Sandbox selects the strict sandbox: the root read-only except the
	// workspace, and no network. Without it the command still runs under
	// bubblewrap where that works, in the light profile (see the package
	// doc), and where it does not, only what unconfined allows runs.
	Sandbox bool
	// Env is the command's environment; nil means ScrubbedEnv(). A caller
	// that sets it should start from ScrubbedEnv(): the git settings there
	// (GIT_CONFIG_NOSYSTEM, GIT_OPTIONAL_LOCKS) are part of safe mode.
	Env []string
	// KillGrace is how long a command gets between SIGTERM and SIGKILL when
	// it times out or ctx is cancelled; zero means DefaultKillGrace.
	KillGrace time.Duration
	// Hide lists files and directories no command may read (the bridge's
	// own database and key, say), on top of HiddenPaths: masked in the
	// sandbox, and without it refused as arguments and guarded against
	// recursive reads. A path that does not exist is skipped.
	Hide []string
}

// DefaultMaxOutput is the output kept when Spec.MaxOutput is zero.
const DefaultMaxOutput = 64 << 10

// DefaultKillGrace is the SIGTERM-to-SIGKILL grace when Spec.KillGrace is zero.
const DefaultKillGrace = 2 * time.Second

// Result is what a command did.
type Result struct {
	// ExitCode is the exit status, or -1 when the command was killed by a
	// signal or did not start.
	ExitCode int
	// Output is combined stdout and stderr in the order written, at most
	// MaxOutput bytes (the first ones).
	Output []byte
	// Truncated is set when the command wrote more than was kept.
	Truncated bool
	// OutputBytes is the total the command wrote, kept or not.
	OutputBytes int64
	// TimedOut is set when the timeout (not ctx) ended the command.
	TimedOut bool
	// Duration is the wall time from start until every process was gone.
	Duration time.Duration
}

// systemDirs may not be a workspace nor contain one: a command confined to
// them could still break the machine.
var systemDirs = []string{"/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
	"/proc", "/sys", "/dev", "/boot", "/run"}

// bareDirs may not be a workspace themselves, though a directory below them
// may (/var/www/site, /home/me/src, /tmp/job).
var bareDirs = []string{"/var", "/home", "/tmp", "/mnt", "/media", "/opt", "/srv", "/root", "/snap"}

// Workspace validates dir as a workspace and returns it absolute with
// symlinks resolved. It must exist and be a directory; it must not be "/",
// the user's home directory or one of its ancestors, a top-level directory
// such as /home, /tmp or /var, or a system directory (/etc, /usr, /bin,
// /sbin, /lib*, /proc, /sys, /dev, /boot, /run) or anything below one.
func Workspace(dir string) (string, error) {
	if dir == "" {
		return "", refuse("workspace", "no workspace directory given; name the project directory commands may use")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("workspace %q: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", refuse("workspace", "workspace %s does not exist or cannot be resolved (%v); create it first", abs, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", refuse("workspace", "workspace %s: %v", real, err)
	}
	if !fi.IsDir() {
		return "", refuse("workspace", "workspace %s is not a directory", real)
	}
	if real == "/" {
		return "", refuse("workspace", "the root directory cannot be a workspace; use a project directory")
	}
	if home := homeDir(); home != "" && within(home, real) {
		return "", refuse("workspace", "workspace %s is the home directory %s or contains it; use a project directory inside it", real, home)
	}
	for _, d := range systemDirs {
		if within(real, d) {
			return "", refuse("workspace", "workspace %s is in the system directory %s; use a project directory", real, d)
		}
	}
	for _, d := range bareDirs {
		if real == d {
			return "", refuse("workspace", "%s itself cannot be a workspace; use a project directory below it", real)
		}
	}
	return real, nil
}

// homeDir is the home directory with symlinks resolved, or "" if unknown.
func homeDir() string {
	h, err := os.UserHomeDir()
	if err != nil || h == "" {
		return ""
	}
	if r, err := filepath.EvalSymlinks(h); err == nil {
		return r
	}
	return filepath.Clean(h)
}

// within reports whether path is dir or below it; both must be clean and
// absolute.
func within(path, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(path, "/")
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}
