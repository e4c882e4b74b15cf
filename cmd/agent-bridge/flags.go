package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// options holds the values of a command's flags. Each command defines
// only its own flags on its own flag set (command.flags), so help lists
// those and a flag of another command is refused; the values share one
// struct because approve.go and yolo.go read it.
type options struct {
	db, keyFile string

	// serve
	ttl, aliveWindow                   time.Duration
	perMinute, perHour, perDay, create int
	maxMessage                         int
	requireInvites                     bool
	redactRules, logLevel              string
	yoloPolicy                         string
	initKey                            bool
	http                               httpOptions // serve.go

	// management
	json       bool
	n          int
	verify     bool
	expectHead string
	prune      time.Duration

	// approve
	list, deny, revoke bool

	console consoleOptions // console.go

	// watch and hook
	conversation, session, tokenFile string
	wait                             time.Duration

	// tasks, leases, guard; serve and watchdog take reassignAfter
	state, member, repo string
	reassignAfter       time.Duration

	// status, watchdog, extend, export, import
	silentAfter, interval, by time.Duration
	notifyPartner, rename     bool
	execCmd, out              string
}

// envName is the environment variable that sets a flag when the command
// line does not: MCP client configurations often pass settings that way.
func envName(flagName string) string {
	return "AGENT_BRIDGE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// envFlags are the flags that environment variables may set.
var envFlags = map[string]bool{
	"db": true, "key-file": true, "ttl": true, "alive-window": true,
	"rate-per-minute": true, "rate-per-hour": true, "rate-per-day": true, "creates-per-hour": true,
	"max-message": true, "require-invites": true, "redact-rules": true, "log-level": true, "yolo-policy": true,
	"reassign-after": true, "member": true,
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// dbFlags are the flags of every command that opens the database.
func dbFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.db, "db", "", "database `file`, or a postgres:// URL shared by several machines (default "+defaultDBHelp()+")")
	fs.StringVar(&o.keyFile, "key-file", "", "token key `file` (default: the database path plus .key; required with PostgreSQL, the same file on every machine); created 0600 on first use")
}

// jsonFlag returns the flags of a database command whose only own flag is
// --json.
func jsonFlag(usage string) func(*flag.FlagSet, *options) {
	return func(fs *flag.FlagSet, o *options) {
		dbFlags(fs, o)
		fs.BoolVar(&o.json, "json", false, usage)
	}
}

// approveFlags are approve's flags (its command is in approve.go).
func approveFlags(fs *flag.FlagSet, o *options) {
	dbFlags(fs, o)
	fs.BoolVar(&o.list, "list", false, "list pending requests and enablements in force")
	fs.BoolVar(&o.deny, "deny", false, "deny the request ID without typing")
	fs.BoolVar(&o.revoke, "revoke", false, "end the enablement ID now")
	fs.BoolVar(&o.json, "json", false, "with --list: print JSON for scripts")
	fs.DurationVar(&o.wait, "wait", 0, "wait up to this long for a request to arrive")
}

// defineFlags defines c's flags on fs and marks those the environment may
// set.
func defineFlags(c command, fs *flag.FlagSet) *options {
	o := &options{}
	if c.flags != nil {
		c.flags(fs, o)
	}
	fs.VisitAll(func(f *flag.Flag) {
		if envFlags[f.Name] {
			f.Usage += " [$" + envName(f.Name) + "]"
		}
	})
	return o
}

// parse parses flags anywhere among the arguments (agent-bridge show ID
// --json) and fills unset flags from the environment. It returns the
// positional arguments.
func parse(e env, name string, args []string) (*options, []string, error) {
	c, ok := findCommand(name)
	if !ok {
		return nil, nil, fmt.Errorf("internal error: no command %q", name)
	}
	fs := newFlagSet(name)
	o := defineFlags(c, fs)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				if err := help(e, []string{name}); err != nil {
					return nil, nil, err
				}
				return nil, nil, errHelpShown
			}
			return nil, nil, usagef("%s: %v (run 'agent-bridge help %s')", name, err, name)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			pos = append(pos, rest[1:]...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || !envFlags[f.Name] || err != nil {
			return
		}
		if v := e.getenv(envName(f.Name)); v != "" {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = usagef("%s=%q: %v", envName(f.Name), v, serr)
			}
		}
	})
	return o, pos, err
}

// errHelpShown stops a command after its help was printed.
var errHelpShown = errors.New("help shown")
