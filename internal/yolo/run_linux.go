//go:build linux

package yolo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Process handling on Linux: a process group per command, a child
// subreaper to catch what leaves the group, and /proc to find it.

// Supported is nil on Linux: commands can run here (the sandbox may still
// be unavailable; see SandboxAvailable).
func Supported() error { return nil }

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
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// execute starts argv (already wrapped by confine) as Run describes and
// waits until it and everything it left behind are gone.
func execute(ctx context.Context, s Spec, argv []string) (Result, error) {
	res := Result{ExitCode: -1}
	id := newID()
	env := append(s.Env[:len(s.Env):len(s.Env)], markerVar+"="+id)
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

	out := &capped{max: s.MaxOutput}
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
		terminate(pid, s.KillGrace, waitDone)
	case <-ctx.Done():
		ctxErr = ctx.Err()
		terminate(pid, s.KillGrace, waitDone)
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

// terminate sends SIGTERM to the group, waits up to grace for the leader,
// then SIGKILLs the group and waits for the leader.
func terminate(pid int, grace time.Duration, waitDone <-chan error) {
	unix.Kill(-pid, unix.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-waitDone:
		unix.Kill(-pid, unix.SIGKILL)
		return
	case <-t.C:
	}
	unix.Kill(-pid, unix.SIGKILL)
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
	self, selfGroup := os.Getpid(), unix.Getpgrp()
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
		unix.Kill(-pid, unix.SIGKILL)
		for _, p := range kill {
			unix.Kill(p, unix.SIGKILL)
		}
		for _, p := range reap {
			var ws unix.WaitStatus
			unix.Wait4(p, &ws, unix.WNOHANG, nil)
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
