package yolo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// markerVar is set in every command's environment with a value unique to
// the Run, so that descendants which left the process group (setsid,
// double fork) can be recognised in /proc and killed.
const markerVar = "AGENT_BRIDGE_RUN"

var (
	reaperOnce sync.Once

	// mu orders starting commands against reaping orphans, so a cleanup
	// never reaps another Run's leader before that Run has registered it.
	mu      sync.Mutex
	leaders = map[int]bool{}
)

// becomeSubreaper makes this process adopt orphaned descendants instead of
// init, so a grandchild that escaped the process group is still ours to
// find and kill. It is process-wide and cannot be undone; orphans that
// exit on their own are reaped by the next cleanup. If the kernel refuses
// (it needs Linux 3.4), escapees go to init instead and only the process
// group and the descendants still linked to it are killed.
func becomeSubreaper() {
	const prSetChildSubreaper = 36
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
}

// Run runs s.Plan with the workspace as working directory, stdin from
// /dev/null, the environment from s.Env (ScrubbedEnv when nil), in a
// process group of its own. On timeout or when ctx is done the group gets
// SIGTERM, then SIGKILL after s.KillGrace. Whenever the command ends, every
// process it left behind is killed, including descendants that left the
// group with setsid or a double fork (found through /proc: this process
// becomes a child subreaper, so they are re-parented to it). Output is kept
// up to s.MaxOutput while the rest is counted and dropped.
//
// With s.Sandbox the command runs under bubblewrap: the whole filesystem
// read-only except the workspace, a private /tmp, fresh /dev and /proc, no
// network, new namespaces, no capabilities, a new session (no terminal
// injection), and it dies with the bridge. A missing bwrap is a *Refusal.
//
// Run returns an error only when the command could not be started or ctx
// ended it (ctx.Err()); a non-zero exit or a timeout is in the Result.
func Run(ctx context.Context, s Spec) (Result, error) {
	res := Result{ExitCode: -1}
	if len(s.Plan.Argv) == 0 {
		return res, refuse("empty", "no command to run; pass the Plan that Check returned")
	}
	if s.Workspace == "" {
		return res, refuse("workspace", "no workspace; pass the directory Workspace returned")
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	max := s.MaxOutput
	if max <= 0 {
		max = DefaultMaxOutput
	}
	grace := s.KillGrace
	if grace <= 0 {
		grace = DefaultKillGrace
	}
	env := s.Env
	if env == nil {
		env = ScrubbedEnv()
	}
	id := newID()
	env = append(env[:len(env):len(env)], markerVar+"="+id)

	argv := s.Plan.Argv
	if s.Plan.Mode != YOLO && s.Plan.Program == "git" {
		// Filters may have been configured since Check (approval takes
		// time): read them again just before running.
		off, r := gitFiltersOff(s.Workspace, argv)
		if r != nil {
			return res, r
		}
		argv = append(append([]string{argv[0]}, off...), argv[1:]...)
	}
	if s.Sandbox {
		bw, err := exec.LookPath("bwrap")
		if err != nil {
			return res, refuse("sandbox-unavailable", "the sandbox needs bubblewrap, which is not installed (bwrap not in PATH); install it (apt-get install bubblewrap) or have the operator turn the sandbox off")
		}
		if err := probeSandbox(bw, s.Workspace); err != nil {
			return res, err
		}
		argv = sandboxArgv(bw, s.Workspace, append(HiddenPaths(), s.Hide...), argv)
	}

	pr, pw, err := os.Pipe()
	if err != nil {
		return res, fmt.Errorf("run: output pipe: %w", err)
	}
	defer pr.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Workspace
	cmd.Env = env
	cmd.Stdout = pw // an *os.File: Wait does not wait for anyone holding it
	cmd.Stderr = pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	reaperOnce.Do(becomeSubreaper)

	mu.Lock()
	err = cmd.Start()
	if err == nil {
		leaders[cmd.Process.Pid] = true
	}
	mu.Unlock()
	pw.Close()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return res, refuse("not-found", "program %s not found in PATH (%v)", argv[0], err)
		}
		return res, fmt.Errorf("run %s: %w", s.Plan.Program, err)
	}
	start := time.Now()
	pid := cmd.Process.Pid
	leaderStart := startTime(pid)

	out := &capped{max: max}
	readDone := make(chan struct{})
	go func() {
		io.Copy(out, pr)
		close(readDone)
	}()
	waitDone := make(chan error, 1)
	go func() { waitDone <- cmd.Wait() }()

	var timeout <-chan time.Time
	if s.Timeout > 0 {
		t := time.NewTimer(s.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var ctxErr error
	select {
	case <-waitDone:
	case <-timeout:
		res.TimedOut = true
		terminate(pid, grace, waitDone)
	case <-ctx.Done():
		ctxErr = ctx.Err()
		terminate(pid, grace, waitDone)
	}
	cleanup(pid, id, leaderStart)
	mu.Lock()
	delete(leaders, pid)
	mu.Unlock()

	// Every writer is dead, so EOF comes at once; the deadline only guards
	// against a process this cleanup could not see.
	pr.SetReadDeadline(time.Now().Add(time.Second))
	<-readDone
	res.Duration = time.Since(start)
	res.Output = out.buf
	res.OutputBytes = out.total
	res.Truncated = out.total > int64(len(out.buf))
	if ps := cmd.ProcessState; ps != nil && ps.Exited() {
		res.ExitCode = ps.ExitCode()
	}
	return res, ctxErr
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

// SandboxAvailable reports why commands cannot run sandboxed here (bwrap
// missing, or unable to create its namespaces), as a *Refusal, or nil.
func SandboxAvailable(workspace string) error {
	bw, err := exec.LookPath("bwrap")
	if err != nil {
		return refuse("sandbox-unavailable", "the sandbox needs bubblewrap, which is not installed (bwrap not in PATH); install it (apt-get install bubblewrap) or ask without sandbox")
	}
	return probeSandbox(bw, workspace)
}

// terminate sends SIGTERM to the group, waits up to grace for the leader,
// then SIGKILLs the group and waits for the leader.
func terminate(pid int, grace time.Duration, waitDone <-chan error) {
	syscall.Kill(-pid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-waitDone:
		syscall.Kill(-pid, syscall.SIGKILL)
		return
	case <-t.C:
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	<-waitDone
}

// cleanup kills whatever the command left behind: the rest of its process
// group, and orphans re-parented to this process that carry the Run's
// marker, with all their descendants. An orphan without a readable marker
// (it replaced its environment, or is a zombie) is taken only when no
// other Run is in progress, it started after this Run's leader, and it is
// not in the bridge's own process group, so that children the bridge
// started by other means are spared. It repeats until a scan finds
// nothing, since a dying process's children are re-parented only as it
// exits.
func cleanup(pid int, id string, leaderStart uint64) {
	self, selfGroup := os.Getpid(), syscall.Getpgrp()
	quiet := 0
	for round := 0; round < 400 && quiet < 2; round++ {
		mu.Lock()
		procs := scanProcs()
		others := len(leaders) > 1
		var kill, reap []int
		children := map[int][]int{}
		for _, p := range procs {
			children[p.ppid] = append(children[p.ppid], p.pid)
		}
		var roots []int
		for _, p := range procs {
			if p.pid == pid || leaders[p.pid] {
				continue
			}
			if p.pgrp == pid {
				roots = append(roots, p.pid)
				continue
			}
			if p.ppid != self {
				continue
			}
			m, ok := marker(p.pid)
			unclaimed := (!ok || m == "") && !others && p.pgrp != selfGroup && p.start >= leaderStart
			if m == id || unclaimed {
				roots = append(roots, p.pid)
			}
		}
		seen := map[int]bool{}
		for len(roots) > 0 {
			p := roots[len(roots)-1]
			roots = roots[:len(roots)-1]
			if seen[p] {
				continue
			}
			seen[p] = true
			kill = append(kill, p)
			roots = append(roots, children[p]...)
		}
		for _, p := range procs {
			if seen[p.pid] && p.ppid == self {
				reap = append(reap, p.pid)
			}
		}
		syscall.Kill(-pid, syscall.SIGKILL)
		for _, p := range kill {
			syscall.Kill(p, syscall.SIGKILL)
		}
		for _, p := range reap {
			var ws syscall.WaitStatus
			syscall.Wait4(p, &ws, syscall.WNOHANG, nil)
		}
		mu.Unlock()
		if len(kill) == 0 {
			quiet++
		} else {
			quiet = 0
		}
		if quiet < 2 {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

type proc struct {
	pid, ppid, pgrp int
	start           uint64 // clock ticks after boot
}

// scanProcs reads pid, parent and process group of every process.
func scanProcs() []proc {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		out = append(out, parseStat(pid, b)...)
	}
	return out
}

// parseStat reads pid, parent, group and start time from a /proc stat
// line: pid (comm) state ppid pgrp session ...; comm may hold spaces and
// parentheses, so fields are counted after the last ')'.
func parseStat(pid int, b []byte) []proc {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 {
		return nil
	}
	ppid, _ := strconv.Atoi(f[1])
	pgrp, _ := strconv.Atoi(f[2])
	var start uint64
	if len(f) > 19 {
		start, _ = strconv.ParseUint(f[19], 10, 64)
	}
	return []proc{{pid: pid, ppid: ppid, pgrp: pgrp, start: start}}
}

// marker returns the value of markerVar in pid's initial environment; ok
// is false when the environment cannot be read (a zombie, or gone).
func marker(pid int) (string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil || len(b) == 0 {
		return "", false
	}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte(markerVar+"=")); ok {
			return string(v), true
		}
	}
	return "", true
}

// startTime is pid's start time in clock ticks after boot, or 0.
func startTime(pid int) uint64 {
	for _, p := range scanOne(pid) {
		return p.start
	}
	return 0
}

func scanOne(pid int) []proc {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	return parseStat(pid, b)
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
