package yolo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"path/filepath"
)

// Run and its helpers common to every platform. The process handling
// (process groups, the child subreaper, /proc) and the sandbox are in
// run_linux.go and sandbox_linux.go; elsewhere run_other.go refuses.

// markerVar is set in every command's environment with a value unique to
// the Run, so that descendants which left the process group (setsid,
// double fork) can be recognised in /proc and killed.
const markerVar = "AGENT_BRIDGE_RUN"

// Run runs s.Plan with the workspace as working directory, stdin from
// /dev/null, the environment from s.Env (ScrubbedEnv when nil), in a
// process group of its own. On timeout or when ctx is done the group gets
// SIGTERM, then SIGKILL after s.KillGrace. Whenever the command ends, every
// process it left behind is killed, including descendants that left the
// group with setsid or a double fork (found through /proc: this process
// becomes a child subreaper, so they are re-parented to it). Output is kept
// up to s.MaxOutput while the rest is counted and dropped.
//
// The command runs under bubblewrap wherever it works (the bridge's files
// and credential stores hidden; private /tmp, /var/tmp and /run; its own
// pid namespace; no capabilities; a new session, so no terminal
// injection; it dies with the bridge). With s.Sandbox the filesystem is
// also read-only except the workspace and there is no network, and a
// missing or unusable bwrap is a *Refusal. Without bubblewrap only what
// cannot reach past its arguments runs (see unconfined).
//
// Commands run only on Linux; elsewhere Run returns the *Refusal that
// Supported describes.
//
// Run returns an error only when the command could not be started or ctx
// ended it (ctx.Err()); a non-zero exit or a timeout is in the Result.
func Run(ctx context.Context, s Spec) (Result, error) {
	s, argv, err := prepare(ctx, s)
	if err != nil {
		return Result{ExitCode: -1}, err
	}
	if argv, err = confine(s, argv); err != nil {
		return Result{ExitCode: -1}, err
	}
	if _, err := exec.LookPath(s.Plan.Argv[0]); err != nil {
		// Said here, not as the sandbox's exit status.
		return Result{ExitCode: -1}, refuse("not-found", "program %s not found in PATH (%v)", s.Plan.Argv[0], err)
	}
	return execute(ctx, s, argv)
}

// prepare checks s, fills in its defaults and returns the argv to run,
// before confinement.
func prepare(ctx context.Context, s Spec) (Spec, []string, error) {
	if err := Supported(); err != nil {
		return s, nil, err
	}
	if len(s.Plan.Argv) == 0 {
		return s, nil, refuse("empty", "no command to run; pass the Plan that Check returned")
	}
	if s.Workspace == "" {
		return s, nil, refuse("workspace", "no workspace; pass the directory Workspace returned")
	}
	if err := ctx.Err(); err != nil {
		return s, nil, err
	}
	if s.MaxOutput <= 0 {
		s.MaxOutput = DefaultMaxOutput
	}
	if s.KillGrace <= 0 {
		s.KillGrace = DefaultKillGrace
	}
	if s.Env == nil {
		s.Env = ScrubbedEnv()
	}
	argv := s.Plan.Argv
	if s.Plan.Mode != YOLO && s.Plan.Program == "git" {
		// Filters may have been configured since Check (approval takes
		// time): read them again just before running.
		off, r := gitFiltersOff(s.Workspace, argv)
		if r != nil {
			return s, nil, r
		}
		argv = append(append([]string{argv[0]}, off...), argv[1:]...)
	}
	return s, argv, nil
}

// HiddenPaths are the credential stores under the home directory that a
// sandboxed command never sees: SSH and GPG keys, cloud, container and
// package-registry credentials, password stores.
func HiddenPaths() []string {
	home := homeDir()
	if home == "" {
		return nil
	}
	var out []string
	for _, rel := range []string{".ssh", ".gnupg", ".aws", ".azure", ".config/gcloud", ".kube", ".docker",
		".config/gh", ".config/hub", ".netrc", ".git-credentials", ".npmrc", ".pypirc", ".cargo/credentials.toml",
		".local/share/keyrings", ".password-store", ".vault-token", ".config/agent-bridge", ".local/state/agent-bridge"} {
		out = append(out, filepath.Join(home, rel))
	}
	return out
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// capped keeps the first max bytes written and counts all of them.
type capped struct {
	buf   []byte
	max   int
	total int64
}

func (c *capped) Write(p []byte) (int, error) {
	c.total += int64(len(p))
	if room := c.max - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
