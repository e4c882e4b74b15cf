//go:build !linux

package yolo

import (
	"context"
	"runtime"
)

// Supported reports why commands cannot run on this platform: they are
// confined with Linux process handling (a child subreaper, /proc) and
// bubblewrap, which exist nowhere else. The rest of agent-bridge works.
func Supported() error {
	return refuse("unsupported-platform", "running commands needs Linux (agent-bridge confines them with bubblewrap and Linux process control); this agent-bridge runs on %s, where messaging works but YOLO mode cannot run commands. Run the agent-bridge that executes commands on a Linux machine", runtime.GOOS)
}

// SandboxAvailable reports, as a *Refusal, that there is no sandbox here.
func SandboxAvailable(string) error { return Supported() }

func confine(Spec, []string) ([]string, error) { return nil, Supported() }

func execute(context.Context, Spec, []string) (Result, error) {
	return Result{ExitCode: -1}, Supported()
}
