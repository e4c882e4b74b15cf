package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// defaultDBPath is where the database lives when neither --db nor
// $AGENT_BRIDGE_DB names one: the per-user state directory of the platform,
// never a shared directory such as /tmp, so that agents in every folder of
// one user meet in the same file.
//
//	Linux and other Unix  $XDG_STATE_HOME/agent-bridge/bridge.db, else ~/.local/state/agent-bridge/bridge.db
//	macOS                 ~/Library/Application Support/agent-bridge/bridge.db
//	Windows               %LocalAppData%\agent-bridge\bridge.db
func defaultDBPath(goos string, getenv func(string) string) (string, error) {
	const app, file = "agent-bridge", "bridge.db"
	if goos == "windows" {
		if d := getenv("LocalAppData"); d != "" {
			return filepath.Join(d, app, file), nil
		}
		return "", fmt.Errorf("no database path: %%LocalAppData%% is not set; pass --db or set AGENT_BRIDGE_DB")
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("no database path: pass --db or set AGENT_BRIDGE_DB (%v)", err)
		}
	}
	if goos == "darwin" {
		return filepath.Join(home, "Library", "Application Support", app, file), nil
	}
	if x := getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, app, file), nil
	}
	return filepath.Join(home, ".local", "state", app, file), nil
}

// defaultDBHelp describes the default database path of this platform, for
// help texts.
func defaultDBHelp() string {
	switch runtime.GOOS {
	case "windows":
		return `%LocalAppData%\agent-bridge\bridge.db`
	case "darwin":
		return "~/Library/Application Support/agent-bridge/bridge.db"
	}
	return "$XDG_STATE_HOME/agent-bridge/bridge.db, else ~/.local/state/agent-bridge/bridge.db"
}

// ownerOnly reports whether a secret file's mode keeps other users out. On
// Windows the mode bits say nothing about who may read a file (access is
// an ACL, inherited from the folder: a file under the user's profile is
// readable by that user, SYSTEM and Administrators), so there is nothing
// to check.
func ownerOnly(fi os.FileInfo) bool {
	return runtime.GOOS == "windows" || fi.Mode().Perm()&0o077 == 0
}

// dbPath resolves the database path: --db or $AGENT_BRIDGE_DB, else the
// per-user state directory (never a shared directory such as /tmp).
func (o *options) dbPath(getenv func(string) string) (string, error) {
	if o.db != "" {
		return o.db, nil
	}
	return defaultDBPath(runtime.GOOS, getenv)
}

func (o *options) keyPath(db string) string {
	if o.keyFile != "" {
		return o.keyFile
	}
	return db + ".key"
}
