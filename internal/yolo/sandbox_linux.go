//go:build linux

package yolo

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// The sandbox: bubblewrap around a command.

// confine wraps argv for s: in bubblewrap when s.Sandbox is set.
func confine(s Spec, argv []string) ([]string, error) {
	if !s.Sandbox {
		return argv, nil
	}
	bw, err := exec.LookPath("bwrap")
	if err != nil {
		return nil, refuse("sandbox-unavailable", "the sandbox needs bubblewrap, which is not installed (bwrap not in PATH); install it (apt-get install bubblewrap) or have the operator turn the sandbox off")
	}
	if err := probeSandbox(bw, s.Workspace); err != nil {
		return nil, err
	}
	return sandboxArgv(bw, s.Workspace, append(HiddenPaths(), s.Hide...), argv), nil
}

var (
	sandboxMu sync.Mutex
	sandboxOK bool
)

// probeSandbox runs "true" in the sandbox until it first works, so that a
// bwrap that cannot create namespaces here (a container without them, an
// AppArmor policy against unprivileged user namespaces) is reported as a
// *Refusal with bwrap's own words, not as the command's failure.
func probeSandbox(bwrap, ws string) error {
	sandboxMu.Lock()
	defer sandboxMu.Unlock()
	if sandboxOK {
		return nil
	}
	out, err := exec.Command(bwrap, sandboxArgv(bwrap, ws, nil, []string{"true"})[1:]...).CombinedOutput()
	if err != nil {
		return refuse("sandbox-unavailable", "bubblewrap cannot create its sandbox here (%v: %s); run where user namespaces are allowed, or have the operator turn the sandbox off", err, strings.TrimSpace(string(out)))
	}
	sandboxOK = true
	return nil
}

// sandboxArgv wraps argv in bubblewrap. Order matters: the private /tmp is
// mounted before the workspace so a workspace under /tmp stays visible, and
// a hidden directory that contains the workspace is masked before the
// workspace is bound back in; everything else hidden is masked after it, so
// a key file inside the workspace is hidden too.
func sandboxArgv(bwrap, ws string, hide, argv []string) []string {
	out := []string{bwrap,
		"--ro-bind", "/", "/",
		"--dev", "/dev",
		"--proc", "/proc",
		"--tmpfs", "/tmp",
	}
	var after []string
	for _, h := range hide {
		fi, err := os.Stat(h)
		if err != nil || !filepath.IsAbs(h) || h == ws {
			continue
		}
		switch {
		case !fi.IsDir():
			after = append(after, "--ro-bind", "/dev/null", h)
		case within(ws, h): // h contains the workspace
			out = append(out, "--tmpfs", h)
		default:
			after = append(after, "--tmpfs", h)
		}
	}
	out = append(out, "--bind", ws, ws)
	out = append(out, after...)
	return append(append(out,
		"--unshare-all", // user (when possible), ipc, pid, net, uts, cgroup
		"--cap-drop", "ALL",
		"--die-with-parent",
		"--new-session",
		"--chdir", ws,
		"--"), argv...)
}

// SandboxAvailable reports why commands cannot run sandboxed here (bwrap
// missing, or unable to create its namespaces), as a *Refusal, or nil.
func SandboxAvailable(workspace string) error {
	bw, err := exec.LookPath("bwrap")
	if err != nil {
		return refuse("sandbox-unavailable", "the sandbox needs bubblewrap, which is not installed (bwrap not in PATH); install it (apt-get install bubblewrap) or ask without sandbox")
	}
	return probeSandbox(bw, workspace)
}
