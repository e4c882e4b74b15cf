//go:build linux

package yolo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func plan(t *testing.T, mode Mode, text, ws string) Plan {
	t.Helper()
	p, err := Check(mode, text, ws, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunOutputAndExit(t *testing.T) {
	ws := workspace(t)
	res, err := Run(context.Background(), Spec{Plan: plan(t, YOLO, "echo out; echo err >&2; echo out2; exit 3", ws), Workspace: ws, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 3 || string(res.Output) != "out\nerr\nout2\n" || res.Truncated || res.OutputBytes != 13 || res.TimedOut {
		t.Errorf("result %+v output %q", res, res.Output)
	}
	res, err = Run(context.Background(), Spec{Plan: plan(t, Safe, "pwd", ws), Workspace: ws})
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(res.Output)) != ws || res.ExitCode != 0 {
		t.Errorf("pwd printed %q, want the workspace %s", res.Output, ws)
	}
}

func TestRunStdinIsDevNull(t *testing.T) {
	ws := workspace(t)
	// cat with no file reads stdin: it must see EOF at once, not hang.
	res, err := Run(context.Background(), Spec{Plan: plan(t, YOLO, "cat; echo done", ws), Workspace: ws, Timeout: 10 * time.Second})
	if err != nil || res.TimedOut || string(res.Output) != "done\n" {
		t.Errorf("res %+v %q err %v", res, res.Output, err)
	}
}

func TestRunOutputCap(t *testing.T) {
	ws := workspace(t)
	// 200,000 bytes written, 1,000 kept.
	res, err := Run(context.Background(), Spec{Plan: plan(t, YOLO, "head -c 200000 /dev/zero | tr '\\0' x", ws), Workspace: ws, MaxOutput: 1000, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Output) != 1000 || !res.Truncated || res.OutputBytes != 200000 || res.ExitCode != 0 {
		t.Errorf("kept %d truncated %v total %d exit %d", len(res.Output), res.Truncated, res.OutputBytes, res.ExitCode)
	}
	if !bytes.Equal(res.Output, bytes.Repeat([]byte("x"), 1000)) {
		t.Errorf("kept output is not the first bytes")
	}
	// The default cap applies when MaxOutput is zero.
	res, err = Run(context.Background(), Spec{Plan: plan(t, YOLO, "head -c 100000 /dev/zero", ws), Workspace: ws, Timeout: 10 * time.Second})
	if err != nil || len(res.Output) != DefaultMaxOutput || res.OutputBytes != 100000 || !res.Truncated {
		t.Errorf("default cap: kept %d total %d err %v", len(res.Output), res.OutputBytes, err)
	}
}

// alive reports whether pid is a process that is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && len(b) > i+2 && b[i+2] != 'Z'
}

func pidFile(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the command did not record a pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// tree starts: a background child holding the output pipe, a grandchild
// that escaped with setsid after a double fork (also holding the pipe), a
// grandchild that ignores SIGTERM, then signals readiness on a FIFO.
const tree = `sleep 300 & echo $! > bg.pid
(setsid sh -c 'echo $$ > esc.pid; exec sleep 300' &) 
sh -c 'trap "" TERM; echo $$ > stubborn.pid; while :; do sleep 1; done' &
while [ ! -s esc.pid ] || [ ! -s stubborn.pid ]; do :; done
echo ready > ready.fifo
wait`

func TestRunCancelKillsTree(t *testing.T) {
	ws := workspace(t)
	if err := syscall.Mkfifo(filepath.Join(ws, "ready.fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Opening the FIFO blocks until the command writes to it: the
		// event that the whole tree is up.
		// Read to EOF: closing early would kill the writer with SIGPIPE.
		os.ReadFile(filepath.Join(ws, "ready.fifo"))
		cancel()
	}()
	start := time.Now()
	res, err := runUnconfined(ctx, Spec{Plan: plan(t, YOLO, tree, ws), Workspace: ws, Timeout: time.Minute, KillGrace: 100 * time.Millisecond})
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	if res.TimedOut || res.ExitCode != -1 {
		t.Errorf("result %+v", res)
	}
	if took > 10*time.Second {
		t.Errorf("Run took %v after cancel; it must not wait for the escaped processes", took)
	}
	for _, f := range []string{"bg.pid", "esc.pid", "stubborn.pid"} {
		if pid := pidFile(t, filepath.Join(ws, f)); alive(pid) {
			t.Errorf("%s: process %d survived", f, pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func TestRunTimeoutKillsTree(t *testing.T) {
	ws := workspace(t)
	script := `sleep 300 & echo $! > bg.pid
(setsid sh -c 'echo $$ > esc.pid; exec sleep 300' &)
wait`
	start := time.Now()
	res, err := runUnconfined(context.Background(), Spec{Plan: plan(t, YOLO, script, ws), Workspace: ws, Timeout: 500 * time.Millisecond, KillGrace: 100 * time.Millisecond})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || res.ExitCode != -1 {
		t.Errorf("result %+v, want TimedOut and exit -1", res)
	}
	if took > 5*time.Second {
		t.Errorf("Run took %v with a 500ms timeout", took)
	}
	for _, f := range []string{"bg.pid", "esc.pid"} {
		if pid := pidFile(t, filepath.Join(ws, f)); alive(pid) {
			t.Errorf("%s: process %d survived", f, pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func TestRunKillsLeftoversAfterNormalExit(t *testing.T) {
	ws := workspace(t)
	// The command exits at once but leaves an escaped daemon holding the pipe.
	res, err := runUnconfined(context.Background(), Spec{Plan: plan(t, YOLO, "(setsid sh -c 'echo $$ > esc.pid; exec sleep 300' &); while [ ! -s esc.pid ]; do :; done; echo bye", ws), Workspace: ws, Timeout: time.Minute})
	if err != nil || res.ExitCode != 0 || string(res.Output) != "bye\n" || res.Duration > 10*time.Second {
		t.Fatalf("res %+v %q err %v", res, res.Output, err)
	}
	if pid := pidFile(t, filepath.Join(ws, "esc.pid")); alive(pid) {
		t.Errorf("escaped process %d survived the command", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func TestRunScrubsEnvironment(t *testing.T) {
	ws := workspace(t)
	t.Setenv("MY_API_TOKEN", "tok-planted")
	t.Setenv("AWS_ACCESS_KEY_ID", "aws-planted")
	t.Setenv("DB_PASSWORD", "pw-planted")
	t.Setenv("GITHUB_PAT", "pat-planted")
	t.Setenv("LD_PRELOAD", "/planted.so")
	t.Setenv("LC_SECRET", "lc-planted")
	t.Setenv("LC_ALL", "C")
	// Proxy credentials: proxies are not kept, and a kept variable holding
	// a URL with a user and password is dropped.
	t.Setenv("HTTPS_PROXY", "http://u:proxy-planted@proxy.example:3128")
	t.Setenv("http_proxy", "http://u:proxy-planted@proxy.example:3128")
	t.Setenv("GOPROXY", "https://proxy.golang.org,https://ci:goproxy-planted@goproxy.example,direct")
	t.Setenv("GONOSUMDB", "example.com/private")
	res, err := Run(context.Background(), Spec{Plan: plan(t, YOLO, "env", ws), Workspace: ws, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	out := string(res.Output)
	if strings.Contains(out, "planted") {
		t.Errorf("a secret-looking variable reached the command:\n%s", out)
	}
	for _, want := range []string{"PATH=", "LC_ALL=C", "GIT_CONFIG_NOSYSTEM=1", "GONOSUMDB=example.com/private"} {
		if !strings.Contains(out, want) {
			t.Errorf("environment lacks %s:\n%s", want, out)
		}
	}
	// An explicit Env replaces the default.
	res, _ = Run(context.Background(), Spec{Plan: plan(t, YOLO, "echo $ONLY", ws), Workspace: ws, Env: []string{"ONLY=this", "PATH=" + os.Getenv("PATH")}})
	if string(res.Output) != "this\n" {
		t.Errorf("explicit Env: %q", res.Output)
	}
}

func TestRunMissingProgram(t *testing.T) {
	ws := workspace(t)
	_, err := Run(context.Background(), Spec{Plan: Plan{Argv: []string{"no-such-program-yolo"}, Program: "x"}, Workspace: ws})
	if rule(err) != "not-found" {
		t.Errorf("err %v, want rule not-found", err)
	}
}

func TestRunSandboxNeedsBwrap(t *testing.T) {
	ws := workspace(t)
	noBwrap(t)
	_, err := Run(context.Background(), Spec{Plan: Plan{Argv: []string{"true"}, Program: "true"}, Workspace: ws, Sandbox: true})
	if rule(err) != "sandbox-unavailable" || !strings.Contains(err.Error(), "apt-get install bubblewrap") {
		t.Errorf("err %v, want a refusal saying how to install bubblewrap", err)
	}
}

// sandboxed skips the test, naming why, when bubblewrap is missing or
// cannot create namespaces here.
func sandboxed(t *testing.T, ws string) {
	t.Helper()
	// In CI a missing sandbox is a broken runner, not a reason to pass.
	skip := t.Skipf
	if os.Getenv("CI") == "true" {
		skip = t.Fatalf
	}
	bw, err := exec.LookPath("bwrap")
	if err != nil {
		skip("sandbox not tested: bwrap is not installed (apt-get install bubblewrap)")
		return
	}
	out, err := exec.Command(bw, sandboxArgv(bw, ws, nil, []string{"true"}, strict)[1:]...).CombinedOutput()
	if err != nil {
		skip("sandbox not tested: bwrap cannot create namespaces here (%v: %s)", err, bytes.TrimSpace(out))
	}
}

func TestSandbox(t *testing.T) {
	ws := workspace(t)
	sandboxed(t, ws)
	outside, err := hostTempDir("yolo-outside-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(outside)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	run := func(text string) Result {
		t.Helper()
		res, err := Run(context.Background(), Spec{Plan: plan(t, YOLO, text, ws), Workspace: ws, Sandbox: true, Timeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// The workspace is writable and the write lands on the host.
	if res := run("echo inside > made.txt && cat made.txt"); res.ExitCode != 0 || string(res.Output) != "inside\n" {
		t.Errorf("workspace write: %+v %q", res, res.Output)
	}
	if b, err := os.ReadFile(filepath.Join(ws, "made.txt")); err != nil || string(b) != "inside\n" {
		t.Errorf("workspace write not visible on the host: %q %v", b, err)
	}
	// Outside the workspace the filesystem is read-only. (The analysis
	// would refuse a literal path outside; build it at run time to test
	// the sandbox itself.)
	plan := Plan{Mode: YOLO, Argv: []string{"bash", "-c", `touch "$1/f" 2>&1; echo rc=$?`, "bash", outside}, Program: "touch"}
	res, err := Run(context.Background(), Spec{Plan: plan, Workspace: ws, Sandbox: true, Timeout: 20 * time.Second})
	if err != nil || !strings.Contains(string(res.Output), "rc=1") || !strings.Contains(string(res.Output), "Read-only") {
		t.Errorf("write outside the workspace: %q %v", res.Output, err)
	}
	if _, err := os.Stat(filepath.Join(outside, "f")); err == nil {
		t.Errorf("a file was created outside the workspace")
	}
	// /tmp is private: a file written there is gone afterwards.
	raw := Plan{Mode: YOLO, Argv: []string{"bash", "-c", "echo x > /tmp/yolo-private"}, Program: "echo"}
	if _, err := Run(context.Background(), Spec{Plan: raw, Workspace: ws, Sandbox: true, Timeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/tmp/yolo-private"); err == nil {
		os.Remove("/tmp/yolo-private")
		t.Errorf("/tmp in the sandbox is the host's /tmp")
	}
	// No network: a listener on the host's loopback is unreachable and the
	// only interface is lo.
	res = run("(exec 3<>/dev/tcp/127.0.0.1/" + port + ") 2>/dev/null; echo rc=$?; tail -n +3 /proc/net/dev | cut -d: -f1")
	if out := string(res.Output); !strings.Contains(out, "rc=1") || strings.Count(strings.TrimSpace(out), "\n") != 1 || !strings.Contains(out, "lo") {
		t.Errorf("network reachable from the sandbox:\n%s", out)
	}
	// A fresh pid namespace: the command sees only its own processes.
	res = run("ls /proc | grep -c '^[0-9]'")
	if n, _ := strconv.Atoi(strings.TrimSpace(string(res.Output))); n == 0 || n > 5 {
		t.Errorf("sandbox sees %q processes, want a private pid namespace", res.Output)
	}
}

func TestSandboxTimeoutKillsTree(t *testing.T) {
	ws := workspace(t)
	sandboxed(t, ws)
	start := time.Now()
	res, err := Run(context.Background(), Spec{Plan: plan(t, YOLO, "(setsid sleep 300 &); sleep 300", ws), Workspace: ws, Sandbox: true, Timeout: 300 * time.Millisecond, KillGrace: 100 * time.Millisecond})
	if err != nil || !res.TimedOut || time.Since(start) > 10*time.Second {
		t.Errorf("res %+v err %v after %v", res, err, time.Since(start))
	}
}

// A Run's cleanup must not kill what belongs to another Run still in
// progress: escaped processes are told apart by their run marker.
func TestRunConcurrentCleanupSparesOtherRuns(t *testing.T) {
	ws := workspace(t)
	for _, f := range []string{"ready.fifo", "go.fifo"} {
		if err := syscall.Mkfifo(filepath.Join(ws, f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long := "(setsid sh -c 'echo $$ > b.pid; exec sleep 300' &); while [ ! -s b.pid ]; do :; done; " +
		"echo ready > ready.fifo; read x < go.fifo; kill -0 $(cat b.pid) && echo alive"
	done := make(chan Result, 1)
	go func() {
		res, err := runUnconfined(context.Background(), Spec{Plan: plan(t, YOLO, long, ws), Workspace: ws, Timeout: time.Minute})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	// The long run's escapee is up. Read to EOF: closing early would kill
	// the writer with SIGPIPE.
	if _, err := os.ReadFile(filepath.Join(ws, "ready.fifo")); err != nil {
		t.Fatal(err)
	}
	// A short run that leaves an escapee of its own, cleaned up meanwhile.
	res, err := runUnconfined(context.Background(), Spec{Plan: plan(t, YOLO, "(setsid sh -c 'echo $$ > a.pid; exec sleep 300' &); while [ ! -s a.pid ]; do :; done", ws), Workspace: ws, Timeout: time.Minute})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("short run: %+v %v", res, err)
	}
	if pid := pidFile(t, filepath.Join(ws, "a.pid")); alive(pid) {
		t.Errorf("the short run's escapee %d survived", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	// Writing blocks until the long run reads; if it died, its result comes.
	go os.WriteFile(filepath.Join(ws, "go.fifo"), []byte("go\n"), 0o600)
	longRes := <-done
	if string(longRes.Output) != "alive\n" {
		t.Errorf("the long run's escapee was killed by another run's cleanup: %q %+v", longRes.Output, longRes)
	}
	if pid := pidFile(t, filepath.Join(ws, "b.pid")); alive(pid) {
		t.Errorf("the long run's escapee %d survived its own run", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func TestRunCancelledBeforeStart(t *testing.T) {
	ws := workspace(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	os.Remove(filepath.Join(ws, "ran"))
	res, err := Run(ctx, Spec{Plan: plan(t, YOLO, "touch ran", ws), Workspace: ws})
	if !errors.Is(err, context.Canceled) || res.ExitCode != -1 {
		t.Errorf("res %+v err %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(ws, "ran")); err == nil {
		t.Errorf("a cancelled Run started the command")
	}
}

// An escapee that wiped its environment (so carries no marker) is still
// killed, while a child the bridge started by other means is spared.
func TestRunCleanupUnmarkedEscapeeSparesBridgeChildren(t *testing.T) {
	ws := workspace(t)
	other := exec.Command("sleep", "300") // as other bridge code might
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		other.Process.Kill()
		other.Wait()
	}()
	script := "(env -i setsid sh -c 'echo $$ > e.pid; exec sleep 300' &); while [ ! -s e.pid ]; do :; done"
	res, err := runUnconfined(context.Background(), Spec{Plan: plan(t, YOLO, script, ws), Workspace: ws, Timeout: time.Minute})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("res %+v %q err %v", res, res.Output, err)
	}
	if pid := pidFile(t, filepath.Join(ws, "e.pid")); alive(pid) {
		t.Errorf("escapee %d without a marker survived", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if !alive(other.Process.Pid) {
		t.Errorf("Run's cleanup killed a process the bridge started itself")
	}
}

// A bwrap that cannot build its sandbox is a refusal carrying its reason,
// not a failed command.
func TestRunSandboxUnusable(t *testing.T) {
	ws := workspace(t)
	bin := t.TempDir()
	fake := "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "bwrap"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	sandboxMu.Lock()
	sandboxOK = map[profile]bool{} // forget a probe that passed with the real bwrap
	sandboxMu.Unlock()
	t.Cleanup(func() {
		sandboxMu.Lock()
		sandboxOK = map[profile]bool{}
		sandboxMu.Unlock()
	})
	_, err := Run(context.Background(), Spec{Plan: Plan{Argv: []string{"true"}, Program: "true"}, Workspace: ws, Sandbox: true})
	if rule(err) != "sandbox-unavailable" || !strings.Contains(err.Error(), "No permissions to create new namespace") {
		t.Errorf("err %v, want a sandbox-unavailable refusal quoting bwrap", err)
	}
}

// A filter configured in the repository and assigned in .gitattributes is
// a program git diff and git status would run; safe mode's git must not.
func TestSafeGitRunsNoRepositoryFilter(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	ws := workspace(t)
	os.RemoveAll(filepath.Join(ws, ".git"))
	// In the workspace: the sandbox's /tmp is its own, so a marker there
	// would vanish and prove nothing.
	marker := filepath.Join(ws, "build", "ran")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = ws
		cmd.Env = append(ScrubbedEnv(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	git("init", "-q", ".")
	os.WriteFile(filepath.Join(ws, "f.txt"), []byte("a\n"), 0o644)
	git("add", "f.txt")
	git("commit", "-qm", "init")
	os.WriteFile(filepath.Join(ws, ".gitattributes"), []byte("*.txt filter=evil diff=evil\n"), 0o644)
	for _, k := range []string{"clean", "process", "smudge"} {
		git("config", "filter.evil."+k, "touch "+marker+"; cat")
	}
	// A filter configured after Check, while the human approves, is also off.
	late := plan(t, Safe, "git diff", ws)
	git("config", "filter.late.process", "touch "+marker+"; cat")
	os.WriteFile(filepath.Join(ws, ".gitattributes"), []byte("*.txt filter=late diff=evil\n"), 0o644)
	os.WriteFile(filepath.Join(ws, "f.txt"), []byte("a\nc\n"), 0o644)
	if res, err := Run(context.Background(), Spec{Plan: late, Workspace: ws, Timeout: 20 * time.Second}); err != nil || res.ExitCode != 0 {
		t.Errorf("late filter: %+v %s %v", res, res.Output, err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("git diff ran a filter configured after Check")
	}
	os.WriteFile(filepath.Join(ws, ".gitattributes"), []byte("*.txt filter=evil diff=evil\n"), 0o644)
	git("config", "diff.evil.textconv", "touch "+marker+"; cat")
	git("config", "diff.evil.command", "touch "+marker)
	git("config", "core.fsmonitor", "touch "+marker)
	os.WriteFile(filepath.Join(ws, "f.txt"), []byte("a\nb\n"), 0o644)
	for _, text := range []string{"git status", "git diff", "git log -p", "git show"} {
		p := plan(t, Safe, text, ws)
		res, err := Run(context.Background(), Spec{Plan: p, Workspace: ws, Timeout: 20 * time.Second})
		if err != nil || res.ExitCode != 0 {
			t.Errorf("%s: %+v %s %v", text, res, res.Output, err)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%s ran a program from the repository's configuration (argv %q)", text, p.Argv)
		}
	}

	// %G? and friends verify a signed commit's signature with gpg.program,
	// which the repository's config may name.
	git("config", "--unset", "core.fsmonitor") // the setup below reads the index
	script := filepath.Join(ws, "build", "gpg.sh")
	os.WriteFile(script, []byte("#!/bin/sh\ntouch "+marker+"\nexit 1\n"), 0o755)
	git("config", "gpg.program", script)
	git("config", "gpg.ssh.program", script)
	tree := exec.Command("git", "write-tree")
	tree.Dir = ws
	treeID, err := tree.Output()
	if err != nil {
		t.Fatal(err)
	}
	obj := "tree " + strings.TrimSpace(string(treeID)) + "\nauthor t <t@t> 0 +0000\ncommitter t <t@t> 0 +0000\n" +
		"gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEEAAAA\n -----END PGP SIGNATURE-----\n\nsigned\n"
	hash := exec.Command("git", "hash-object", "-t", "commit", "-w", "--stdin")
	hash.Dir, hash.Stdin = ws, strings.NewReader(obj)
	id, err := hash.Output()
	if err != nil {
		t.Fatal(err)
	}
	git("update-ref", "HEAD", strings.TrimSpace(string(id)))
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the marker exists before the signature checks")
	}
	for _, text := range []string{"git log '--format=%G? %GS %GK' -1", "git show -s '--pretty=format:%GG'"} {
		p := plan(t, Safe, text, ws)
		res, err := Run(context.Background(), Spec{Plan: p, Workspace: ws, Timeout: 20 * time.Second})
		if err != nil || res.ExitCode != 0 {
			t.Errorf("%s: %+v %s %v", text, res, res.Output, err)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%s ran the repository's gpg.program (argv %q)", text, p.Argv)
		}
	}
	// The baseline: git itself does run it for these placeholders.
	base := exec.Command("git", "log", "--format=%G?", "-1")
	base.Dir = ws
	base.Run()
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the gpg.program probe did not run even without neutralising: the check above proves nothing")
	}
}

// TestSandboxHides: paths in Spec.Hide cannot be read inside the sandbox,
// whether a file outside the workspace, a file inside it (a key file next to
// a project's database), or a directory that contains the workspace, which
// stays usable.
func TestSandboxHides(t *testing.T) {
	parent, err := hostTempDir("yolo-hidden-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(parent)
	ws := filepath.Join(parent, "project")
	if err := os.Mkdir(ws, 0o700); err != nil {
		t.Fatal(err)
	}
	sandboxed(t, ws)
	outsideDir := filepath.Join(parent, "state")
	os.Mkdir(outsideDir, 0o700)
	for path, body := range map[string]string{
		filepath.Join(parent, "sibling.txt"):    "sibling secret",
		filepath.Join(outsideDir, "bridge.key"): "outside key",
		filepath.Join(ws, "bridge.db.key"):      "inside key",
		filepath.Join(ws, "visible.txt"):        "visible text",
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(hide []string, argv ...string) string {
		t.Helper()
		res, err := Run(context.Background(), Spec{Plan: Plan{Argv: argv, Program: argv[0]}, Workspace: ws, Sandbox: true, Timeout: 10 * time.Second, Hide: hide})
		if err != nil {
			t.Fatal(err)
		}
		return string(res.Output)
	}
	cat := []string{"sh", "-c", "cat " + parent + "/sibling.txt " + outsideDir + "/bridge.key bridge.db.key visible.txt 2>&1; echo ok > written.txt; cat written.txt"}
	// Nothing hidden: the sandbox reads everything (the baseline that makes
	// the next check mean something).
	if out := run(nil, cat...); !strings.Contains(out, "sibling secret") || !strings.Contains(out, "inside key") {
		t.Fatalf("without Hide the files should be readable: %q", out)
	}
	out := run([]string{parent, outsideDir, filepath.Join(ws, "bridge.db.key"), "/no/such/path"}, cat...)
	for _, secret := range []string{"sibling secret", "outside key", "inside key"} {
		if strings.Contains(out, secret) {
			t.Errorf("the sandbox read a hidden path: %q in %q", secret, out)
		}
	}
	if !strings.Contains(out, "visible text") || !strings.Contains(out, "ok") {
		t.Errorf("hiding the workspace's parent broke the workspace: %q", out)
	}
	if b, _ := os.ReadFile(filepath.Join(ws, "bridge.db.key")); string(b) != "inside key" {
		t.Errorf("the hidden key file was changed: %q", b)
	}
}

func TestHiddenPathsCoverCredentialStores(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	got := strings.Join(HiddenPaths(), "\n")
	for _, want := range []string{"/.ssh", "/.aws", "/.gnupg", "/.local/state/agent-bridge", "/.netrc"} {
		if !strings.Contains(got, want) {
			t.Errorf("HiddenPaths lacks %s:\n%s", want, got)
		}
	}
}

// runUnconfined runs s the way Run does but without the sandbox, to test
// the process handling itself: inside bubblewrap's pid namespace the
// command's pids mean nothing on the host.
func runUnconfined(ctx context.Context, s Spec) (Result, error) {
	s, argv, err := prepare(ctx, s)
	if err != nil {
		return Result{ExitCode: -1}, err
	}
	return execute(ctx, s, argv)
}

// hostTempDir makes a directory the sandbox shows as on the host: not in
// /tmp, /var/tmp or /run, which it replaces with empty ones.
// The package directory serves, unless the checkout itself is under one of
// those (a CI clone in /tmp); then the user's cache directory does.
func hostTempDir(prefix string) (string, error) {
	private := func(dir string) bool {
		for _, p := range []string{"/tmp", "/var/tmp", "/run"} {
			if dir == p || strings.HasPrefix(dir, p+"/") {
				return true
			}
		}
		return false
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(wd); err == nil && !private(real) {
		return os.MkdirTemp(wd, "."+prefix)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return "", err
	}
	if private(cache) {
		return "", fmt.Errorf("no directory outside /tmp, /var/tmp and /run to test the sandbox with: the checkout is at %s and the cache directory at %s", wd, cache)
	}
	return os.MkdirTemp(cache, prefix)
}

// noBwrap makes Run find no bubblewrap for the rest of the test.
func noBwrap(t *testing.T) {
	t.Helper()
	old := lookBwrap
	lookBwrap = func() (string, error) { return "", errors.New("bwrap: not found (test)") }
	t.Cleanup(func() { lookBwrap = old })
}

// keyRig is a workspace with a symlink to a host directory holding a key
// file the bridge hides: the shape of issue 13's finding 4.
func keyRig(t *testing.T) (ws, key string) {
	t.Helper()
	outside, err := hostTempDir("yolo-key-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(outside) })
	key = filepath.Join(outside, "bridge.db.key")
	if err := os.WriteFile(key, []byte("KEYMATERIAL-7f3a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ws = workspace(t)
	if err := os.Symlink(outside, filepath.Join(ws, "state")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "inside.txt"), []byte("KEYMATERIAL-inside\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return ws, key
}

// Issue 13, finding 4: a symlink in the workspace plus a recursive,
// link-following read (grep -R, find -L, du -L) read the bridge's key in
// safe mode, which ran unsandboxed. Now every mode runs in bubblewrap
// where it works, with the key hidden, sandbox setting or not.
func TestEveryModeRunsSandboxed(t *testing.T) {
	ws, key := keyRig(t)
	sandboxed(t, ws)
	for _, text := range []string{"grep -R KEYMATERIAL .", "grep --dereference-recursive KEYMATERIAL .", "grep -R '--include=*.key' KEYMATERIAL ."} {
		for _, strictOn := range []bool{false, true} {
			p, err := Check(Safe, text, ws, Policy{})
			if err != nil {
				t.Fatalf("Check(%q): %v", text, err)
			}
			res, err := Run(context.Background(), Spec{Plan: p, Workspace: ws, Sandbox: strictOn, Timeout: 20 * time.Second, Hide: []string{key}})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(res.Output), "KEYMATERIAL-7f3a") {
				t.Errorf("%q (sandbox %t) read the hidden key: %q", text, strictOn, res.Output)
			}
		}
	}
	// The light sandbox keeps the host writable and the workspace shared.
	p := Plan{Mode: YOLO, Argv: []string{"sh", "-c", "echo made > made.txt; ls /proc | grep -c '^[0-9]'"}, Program: "sh"}
	res, err := Run(context.Background(), Spec{Plan: p, Workspace: ws, Timeout: 20 * time.Second, Hide: []string{key}})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("light sandbox: %+v %v", res, err)
	}
	if b, _ := os.ReadFile(filepath.Join(ws, "made.txt")); string(b) != "made\n" {
		t.Errorf("a write in the light sandbox did not reach the workspace: %q", b)
	}
	if n, _ := strconv.Atoi(strings.TrimSpace(string(res.Output))); n == 0 || n > 5 {
		t.Errorf("the light sandbox sees %q processes, want its own pid namespace", res.Output)
	}
}

// Where bubblewrap is missing, only safe mode runs, and only what cannot
// reach past its arguments.
func TestUnconfinedRunsOnlyWhatStaysInside(t *testing.T) {
	ws, key := keyRig(t)
	noBwrap(t)
	hidden := filepath.Join(ws, "bridge.db.key")
	if err := os.WriteFile(hidden, []byte("KEYMATERIAL-7f3a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mode Mode
		text string
		want string // rule, or "" to run
	}{
		{Safe, "grep -R KEYMATERIAL .", "needs-sandbox"},
		{Safe, "grep --dereference-rec KEYMATERIAL .", "needs-sandbox"},
		{Safe, "grep -rd recurse KEYMATERIAL .", "needs-sandbox"},
		{Safe, "find -L . -name bridge.db.key", "needs-sandbox"},
		{Safe, "find . -follow -name x", "needs-sandbox"},
		{Safe, "du -L .", "needs-sandbox"},
		{Safe, "du --dereference .", "needs-sandbox"},
		{Safe, "ls -LR .", "needs-sandbox"},
		{Safe, "diff -r . .", "needs-sandbox"},
		{Safe, "rg -L KEY", "needs-sandbox"},
		{Safe, "tree -l", "needs-sandbox"},
		{Safe, "sha256sum -c sums", "needs-sandbox"},
		{Safe, "go vet ./...", "needs-sandbox"},
		{Safe, "git status", "needs-sandbox"},
		{Safe, "cat bridge.db.key", "hidden-path"},
		{YOLO, "cat inside.txt", "needs-sandbox"},
		{Restricted, "ls", "needs-sandbox"},
		{Safe, "grep -r KEYMATERIAL .", "hidden-path"},
		{Safe, "grep KEYMATERIAL inside.txt", ""},
		{Safe, "find . -name '*.txt'", ""},
		{Safe, "cat inside.txt", ""},
	} {
		p, err := Check(c.mode, c.text, ws, Policy{Allow: []string{"ls"}})
		if err != nil {
			t.Fatalf("Check(%s, %q): %v", c.mode, c.text, err)
		}
		res, err := Run(context.Background(), Spec{Plan: p, Workspace: ws, Timeout: 20 * time.Second, Hide: []string{key, hidden}})
		if got := rule(err); got != c.want {
			t.Errorf("%s %q without bubblewrap: rule %q, want %q (%v)", c.mode, c.text, got, c.want, err)
		}
		if strings.Contains(string(res.Output), "KEYMATERIAL-7f3a") {
			t.Errorf("%q read the key: %q", c.text, res.Output)
		}
	}
}

// "No network" means no sockets to the host either: the sandboxes get
// private /run, /tmp and /var/tmp (where host services put their sockets),
// and the strict one a network namespace of its own (no abstract sockets).
func TestSandboxReachesNoHostSocket(t *testing.T) {
	ws := workspace(t)
	sandboxed(t, ws)
	var paths []string
	for _, dir := range []string{"/run", "/tmp", "/var/tmp"} {
		d, err := os.MkdirTemp(dir, "yolo-sock-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		p := filepath.Join(d, "s")
		ln, err := net.Listen("unix", p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		paths = append(paths, p)
	}
	script := ""
	for _, p := range paths {
		script += "test -S " + p + " && echo reachable " + p + "; "
	}
	for _, strictOn := range []bool{false, true} {
		res, err := Run(context.Background(), Spec{Plan: Plan{Mode: YOLO, Argv: []string{"sh", "-c", script + "echo done"}, Program: "sh"},
			Workspace: ws, Sandbox: strictOn, Timeout: 20 * time.Second})
		if err != nil || !strings.Contains(string(res.Output), "done") {
			t.Fatalf("%+v %v", res, err)
		}
		if strings.Contains(string(res.Output), "reachable") {
			t.Errorf("sandbox %t reaches a host socket: %s", strictOn, res.Output)
		}
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("abstract sockets not tested: python3 is not installed")
	}
	ln, err := net.Listen("unix", "@yolo-abstract-"+strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	connect := "import socket; s = socket.socket(socket.AF_UNIX); s.connect('\\0yolo-abstract-" + strconv.Itoa(os.Getpid()) + "'); print('connected')"
	res, err := Run(context.Background(), Spec{Plan: Plan{Mode: YOLO, Argv: []string{py, "-c", connect}, Program: "python3"},
		Workspace: ws, Sandbox: true, Timeout: 20 * time.Second})
	if err != nil || strings.Contains(string(res.Output), "connected") || res.ExitCode == 0 {
		t.Errorf("the strict sandbox reached an abstract socket: %q %v", res.Output, err)
	}
	// The baseline: the same program outside the sandbox does connect.
	res, _ = runUnconfined(context.Background(), Spec{Plan: Plan{Mode: YOLO, Argv: []string{py, "-c", connect}, Program: "python3"}, Workspace: ws, Timeout: 20 * time.Second})
	if !strings.Contains(string(res.Output), "connected") {
		t.Errorf("the abstract-socket probe does not work even outside the sandbox: %q", res.Output)
	}
}
