//go:build linux

package yolo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// The sandbox: bubblewrap around every command where it works.
//
// Two profiles share what keeps the bridge safe: the bridge's own files
// (Spec.Hide) and the credential stores (HiddenPaths) are masked, /tmp,
// /var/tmp and /run are private (no host Unix sockets: the Docker socket,
// ssh-agent, D-Bus, X11), /dev and /proc are fresh, and the command has
// its own pid namespace (it can signal only its own processes, and cannot
// reach the bridge through /proc/PID/root or /proc/PID/fd), no
// capabilities, a new session, and dies with the bridge.
//
// strict (Spec.Sandbox): the root read-only except the workspace, and no
// network (a network namespace of its own, so no abstract Unix sockets
// either).
//
// light (the default): the filesystem writable as the user and the
// network shared, as without a sandbox, but with the masks above.
//
// Where bubblewrap is missing or cannot create namespaces, only safe mode
// runs, and only commands that cannot reach past their arguments (see
// unconfined).

// lookBwrap finds bubblewrap; tests replace it to simulate its absence.
var lookBwrap = func() (string, error) { return exec.LookPath("bwrap") }

type profile int

const (
	light profile = iota
	strict
)

// confine wraps argv for s in bubblewrap, or checks that it may run
// without it.
func confine(s Spec, argv []string) ([]string, error) {
	hide := append(HiddenPaths(), s.Hide...)
	p := light
	if s.Sandbox {
		p = strict
	}
	bw, err := lookBwrap()
	if err != nil {
		err = refuse("sandbox-unavailable", "bubblewrap is not installed (bwrap not in PATH); install it (apt-get install bubblewrap)")
	} else {
		err = probeSandbox(bw, s.Workspace, p)
	}
	if err == nil {
		return sandboxArgv(bw, s.Workspace, hide, argv, p), nil
	}
	if s.Sandbox {
		return nil, err
	}
	if r := unconfined(s.Plan, argv, s.Workspace, hide); r != nil {
		r.Message += fmt.Sprintf(" (no sandbox here: %s)", err.(*Refusal).Message)
		return nil, r
	}
	return argv, nil
}

var (
	sandboxMu sync.Mutex
	sandboxOK = map[profile]bool{}
)

// probeSandbox runs "true" in the sandbox until it first works, so that a
// bwrap that cannot create namespaces here (a container without them, an
// AppArmor policy against unprivileged user namespaces) is reported as a
// *Refusal with bwrap's own words, not as the command's failure.
func probeSandbox(bwrap, ws string, p profile) error {
	sandboxMu.Lock()
	defer sandboxMu.Unlock()
	if sandboxOK[p] {
		return nil
	}
	out, err := exec.Command(bwrap, sandboxArgv(bwrap, ws, nil, []string{"true"}, p)[1:]...).CombinedOutput()
	if err != nil {
		return refuse("sandbox-unavailable", "bubblewrap cannot create its sandbox here (%v: %s); run where user namespaces are allowed", err, strings.TrimSpace(string(out)))
	}
	sandboxOK[p] = true
	return nil
}

// privateDirs get an empty tmpfs in the sandbox, before the workspace is
// bound in (a workspace below /tmp stays visible).
var privateDirs = []string{"/tmp", "/var/tmp", "/run"}

// sandboxArgv wraps argv in bubblewrap. Order matters: the private
// directories are mounted before the workspace so a workspace under /tmp
// stays visible, and a hidden directory that contains the workspace is
// masked before the workspace is bound back in; everything else hidden is
// masked after it, so a key file inside the workspace is hidden too.
func sandboxArgv(bwrap, ws string, hide, argv []string, p profile) []string {
	out := []string{bwrap}
	if p == strict {
		out = append(out, "--ro-bind", "/", "/")
	} else {
		out = append(out, "--bind", "/", "/")
	}
	out = append(out, "--dev", "/dev", "--proc", "/proc")
	for _, d := range privateDirs {
		if fi, err := os.Lstat(d); err == nil && fi.IsDir() {
			out = append(out, "--tmpfs", d)
		}
	}
	var after []string
	for _, h := range hide {
		fi, err := os.Stat(h)
		if err != nil || !filepath.IsAbs(h) || h == ws || underPrivate(h) && !within(h, ws) {
			continue // gone already, or the workspace itself
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
	out = append(out, "--unshare-all") // user (when possible), ipc, pid, net, uts, cgroup
	if p == light {
		out = append(out, "--share-net")
	}
	return append(append(out,
		"--cap-drop", "ALL",
		"--die-with-parent",
		"--new-session",
		"--chdir", ws,
		"--"), argv...)
}

// underPrivate reports whether p is below a directory the sandbox replaces
// with an empty one.
func underPrivate(p string) bool {
	for _, d := range privateDirs {
		if within(p, d) {
			return true
		}
	}
	return false
}

// SandboxAvailable reports why commands cannot run in the strict sandbox
// here (bwrap missing, or unable to create its namespaces), as a
// *Refusal, or nil.
func SandboxAvailable(workspace string) error {
	bw, err := lookBwrap()
	if err != nil {
		return refuse("sandbox-unavailable", "the sandbox needs bubblewrap, which is not installed (bwrap not in PATH); install it (apt-get install bubblewrap) or ask without sandbox")
	}
	return probeSandbox(bw, workspace, strict)
}
