package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/agent-bridge/agent-bridge/internal/store/postgres"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
)

// version is stamped by release builds (make dist):
// -ldflags "-X main.version=$(git describe --tags --always --dirty)".
var version string

func versionCommand() command {
	return command{
		name: "version", summary: "print the version and the database schema it writes", usage: "",
		help: `Prints agent-bridge's version, the Go version and platform it was built for, and the
database schema version it writes for SQLite and for PostgreSQL (a database of a newer
schema is refused with a message saying so).`,
		run: func(ctx context.Context, e env, args []string) error {
			if _, pos, err := parse(e, "version", args); err != nil {
				return err
			} else if len(pos) > 0 {
				return usagef("version takes no arguments")
			}
			fmt.Fprintf(e.stdout, "agent-bridge %s (%s %s/%s)\ndatabase schema: SQLite %d, PostgreSQL %d\n",
				buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH, sqlite.SchemaVersion(), postgres.SchemaVersion())
			return nil
		},
	}
}

// buildVersion is the stamped version, else the module version (go
// install ...@vX), else the VCS revision of a development build.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "dev-" + rev
}
