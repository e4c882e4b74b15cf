//go:build !linux

package yolo

import (
	"context"
	"errors"
	"testing"
)

// Off Linux, nothing runs: Run refuses with a reason a caller can show.
func TestRunRefusesOffLinux(t *testing.T) {
	_, err := Run(context.Background(), Spec{Plan: Plan{Mode: Safe, Argv: []string{"true"}, Program: "true"}, Workspace: t.TempDir()})
	var r *Refusal
	if !errors.As(err, &r) || r.Rule != "unsupported-platform" {
		t.Fatalf("Run = %v, want an unsupported-platform refusal", err)
	}
	if SandboxAvailable(t.TempDir()) == nil {
		t.Error("SandboxAvailable = nil off Linux")
	}
}
