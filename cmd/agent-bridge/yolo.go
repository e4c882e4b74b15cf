package main

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/postgres"
	"github.com/agent-bridge/agent-bridge/internal/yolo"
)

// yoloSettings applies stage 1 of YOLO mode: the server offers command
// execution only when the person who configured it set YOLO_MODE=1 in its
// environment. Nothing an agent sends can change that.
func yoloSettings(y bridge.YoloConfig, o *options, getenv func(string) string, log *slog.Logger) (bridge.YoloConfig, error) {
	switch v := getenv("YOLO_MODE"); v {
	case "1":
		y.Enabled = true
	case "", "0":
	default:
		log.Warn("YOLO_MODE is set but not to 1: YOLO mode stays off", "value_length", len(v))
	}
	if o.yoloPolicy != "" {
		p, err := loadYoloPolicy(o.yoloPolicy)
		if err != nil {
			return y, err
		}
		y.Policy = p
	}
	if y.Enabled {
		log.Warn("YOLO mode is on: agents may ask to run commands; each enablement needs a person's typed consent (agent-bridge approve)",
			"default_workspace", y.Workspace, "allow_patterns", len(y.Policy.Allow), "deny_patterns", len(y.Policy.Deny))
	}
	return y, nil
}

// bridgeFiles are the bridge's own files, which no command may read: the
// key signs every token, and the database holds approvals; nor touch: a
// command holding the write lock would stall every writer, and one
// writing signal files would wake waiters for nothing. The
// directories holding them are hidden too, so that copies kept beside
// them (agent-bridge backup DEST writes DEST and DEST.key) are out of
// reach as well, unless such a directory is the home directory or a
// top-level one, where hiding it would hide everything. A PostgreSQL URL
// is no file; its key file still is.
func bridgeFiles(db, key string) []string {
	files := []string{key}
	if abs, err := filepath.Abs(key); err == nil {
		files[0] = abs
	}
	dirs := []string{filepath.Dir(files[0])}
	if abs, err := filepath.Abs(db); err == nil && !postgres.IsURL(db) {
		files = append(files, abs, abs+"-wal", abs+"-shm", abs+"-notify.d", abs+"-write.lock")
		dirs = append(dirs, filepath.Dir(abs))
	}
	home, _ := os.UserHomeDir()
	for _, d := range dirs {
		if d == filepath.Clean(home) || strings.Count(d, "/") < 2 || containsString(files, d) {
			continue
		}
		files = append(files, d)
	}
	return files
}

func containsString(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// loadYoloPolicy reads a policy file: one "allow PATTERN" or "deny PATTERN"
// per line; blank lines and lines starting with # are ignored.
func loadYoloPolicy(path string) (p yolo.Policy, err error) {
	f, err := os.Open(path)
	if err != nil {
		return p, fmt.Errorf("yolo policy: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		verb, pattern, _ := strings.Cut(line, " ")
		pattern = strings.TrimSpace(pattern)
		if pattern == "" {
			return p, fmt.Errorf("yolo policy %s:%d: %q has no pattern; write 'allow PATTERN' or 'deny PATTERN'", path, n, line)
		}
		switch verb {
		case "allow":
			p.Allow = append(p.Allow, pattern)
		case "deny":
			p.Deny = append(p.Deny, pattern)
		default:
			return p, fmt.Errorf("yolo policy %s:%d: a line starts with allow or deny, not %q", path, n, verb)
		}
	}
	if err := sc.Err(); err != nil {
		return p, fmt.Errorf("yolo policy %s: %w", path, err)
	}
	return p, nil
}
