package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/limit"
	"github.com/agent-bridge/agent-bridge/internal/metrics"
	"github.com/agent-bridge/agent-bridge/internal/redact"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// options are every command's flags; each command defines the ones it uses.
type options struct {
	db, keyFile string

	// serve
	ttl, aliveWindow                   time.Duration
	perMinute, perHour, perDay, create int
	maxMessage                         int
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

	// fleet
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
	"max-message": true, "redact-rules": true, "log-level": true, "yolo-policy": true,
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func defineFlags(command string, fs *flag.FlagSet) *options {
	o := &options{}
	d := bridge.DefaultConfig()
	fs.StringVar(&o.db, "db", "", "database `file`, or a postgres:// URL shared by several machines (default $XDG_STATE_HOME/agent-bridge/bridge.db, else ~/.local/state/agent-bridge/bridge.db)")
	fs.StringVar(&o.keyFile, "key-file", "", "token key `file` (default: the database path plus .key; required with PostgreSQL, the same file on every machine); created 0600 on first use")
	switch command {
	case "serve":
		fs.DurationVar(&o.ttl, "ttl", d.TTL, "how long a conversation lasts after it is created")
		fs.DurationVar(&o.aliveWindow, "alive-window", d.AliveWindow, "a partner whose heartbeat is younger than this is alive")
		fs.IntVar(&o.perMinute, "rate-per-minute", d.SessionLimits[0].Max, "tool calls per session per minute (0 = no limit)")
		fs.IntVar(&o.perHour, "rate-per-hour", d.SessionLimits[1].Max, "tool calls per session per hour (0 = no limit)")
		fs.IntVar(&o.perDay, "rate-per-day", d.SessionLimits[2].Max, "tool calls per session per day (0 = no limit)")
		fs.IntVar(&o.create, "creates-per-hour", d.CreateLimits[0].Max, "conversations created per hour across the database (0 = no limit)")
		fs.IntVar(&o.maxMessage, "max-message", d.MaxMessageChars, "characters per message")
		fs.StringVar(&o.redactRules, "redact-rules", "", "`file` of extra redaction rules and allowlist entries")
		fs.StringVar(&o.logLevel, "log-level", "info", "log level on stderr: debug, info, warn or error")
		fs.BoolVar(&o.initKey, "init-key", false, "serve even though the key file did not write this database's audit trail (a new key for an existing database: every existing token stops working)")
		fs.StringVar(&o.yoloPolicy, "yolo-policy", "", "YOLO mode: `file` of 'allow PATTERN' and 'deny PATTERN' lines for the restricted and yolo modes (see YOLO_MODE.md)")
		defineHTTPFlags(fs, &o.http)
	case "console":
		defineConsoleFlags(fs, &o.console)
	case "approve":
		fs.BoolVar(&o.list, "list", false, "list pending requests and enablements in force")
		fs.BoolVar(&o.deny, "deny", false, "deny the request ID without typing")
		fs.BoolVar(&o.revoke, "revoke", false, "end the enablement ID now")
		fs.BoolVar(&o.json, "json", false, "with --list: print JSON for scripts")
		fs.DurationVar(&o.wait, "wait", 0, "wait up to this long for a request to arrive")
	case "list", "show", "tokens", "cleanup":
		fs.BoolVar(&o.json, "json", false, "print JSON for scripts")
	case "watch":
		fs.BoolVar(&o.json, "json", false, "print one JSON object per message")
		fs.StringVar(&o.conversation, "conversation", "", "the conversation `ID` to watch")
		fs.StringVar(&o.session, "session", "", "the session to watch for, `a` or b (messages addressed to it)")
		fs.StringVar(&o.tokenFile, "token-file", "", "`file` holding the session's token (else $AGENT_BRIDGE_TOKEN; never a flag, which ps would show)")
	case "hook":
		fs.StringVar(&o.conversation, "conversation", "", "only this conversation `ID` (default: every conversation this project's agent joined)")
		fs.StringVar(&o.session, "session", "", "with --conversation: the agent's session, `a` or b")
		fs.DurationVar(&o.wait, "wait", 0, "on Stop: wait up to this long for a partner message before letting the agent stop (0 = do not wait)")
	case "redact":
		fs.BoolVar(&o.json, "json", false, "print the text and the findings as JSON")
		fs.StringVar(&o.redactRules, "redact-rules", "", "`file` of extra redaction rules and allowlist entries")
	case "status":
		fs.BoolVar(&o.json, "json", false, "print JSON for scripts")
		fs.DurationVar(&o.silentAfter, "silent-after", 5*time.Minute, "a session that made no call for this long is silent")
	case "watchdog":
		fs.BoolVar(&o.json, "json", false, "print each event as a JSON line")
		fs.DurationVar(&o.silentAfter, "silent-after", 5*time.Minute, "a session that made no call for this long is silent")
		fs.DurationVar(&o.interval, "interval", 30*time.Second, "how often to check")
		fs.BoolVar(&o.notifyPartner, "notify-partner", false, "send the silent session's partner a notice from the bridge")
		fs.StringVar(&o.execCmd, "exec", "", "run this shell `command` on each event, with details in AGENT_BRIDGE_EVENT_* variables")
	case "extend":
		fs.BoolVar(&o.json, "json", false, "print JSON for scripts")
		fs.DurationVar(&o.by, "by", time.Hour, "how much longer the conversation lasts")
	case "export":
		fs.StringVar(&o.out, "out", "", "write to `file` (created 0600; default stdout)")
	case "import":
		fs.BoolVar(&o.json, "json", false, "print JSON for scripts")
		fs.BoolVar(&o.rename, "rename", false, "import under a new conversation id (and new message ids) if the id exists")
	case "audit":
		fs.BoolVar(&o.json, "json", false, "print JSON for scripts")
		fs.IntVar(&o.n, "n", 50, "show the last `N` rows (0 = all)")
		fs.BoolVar(&o.verify, "verify", false, "check the whole hash chain and report every edited, deleted or reordered row")
		fs.StringVar(&o.expectHead, "expect-head", "", "with --verify: a head `SEQ:DIGEST` printed by an earlier --verify; report the chain broken if it no longer reaches that row (rows cut from the end)")
		fs.DurationVar(&o.prune, "prune-older-than", 0, "remove rows older than this `age` (e.g. 720h), leaving a checkpoint row that keeps the rest verifiable")
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
	fs := newFlagSet(name)
	o := defineFlags(name, fs)
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

// dbPath resolves the database path: --db or $AGENT_BRIDGE_DB, else the
// per-user state directory (never a shared directory such as /tmp).
func (o *options) dbPath(getenv func(string) string) (string, error) {
	if o.db != "" {
		return o.db, nil
	}
	if x := getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "agent-bridge", "bridge.db"), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("no database path: pass --db or set AGENT_BRIDGE_DB (%v)", err)
		}
	}
	return filepath.Join(home, ".local", "state", "agent-bridge", "bridge.db"), nil
}

func (o *options) keyPath(db string) string {
	if o.keyFile != "" {
		return o.keyFile
	}
	return db + ".key"
}

func (o *options) config() (bridge.Config, error) {
	cfg := bridge.DefaultConfig()
	for _, c := range []struct {
		name string
		v    int
	}{{"rate-per-minute", o.perMinute}, {"rate-per-hour", o.perHour}, {"rate-per-day", o.perDay}, {"creates-per-hour", o.create}} {
		if c.v < 0 {
			return cfg, usagef("--%s must be 0 (no limit) or more; got %d", c.name, c.v)
		}
	}
	if o.ttl <= 0 {
		return cfg, usagef("--ttl must be positive; got %s", o.ttl)
	}
	if o.aliveWindow <= 0 {
		return cfg, usagef("--alive-window must be positive; got %s", o.aliveWindow)
	}
	if o.maxMessage < 1 {
		return cfg, usagef("--max-message must be at least 1; got %d", o.maxMessage)
	}
	cfg.TTL, cfg.AliveWindow, cfg.MaxMessageChars = o.ttl, o.aliveWindow, o.maxMessage
	cfg.SessionLimits = []limit.Window{
		{Max: o.perMinute, Period: time.Minute},
		{Max: o.perHour, Period: time.Hour},
		{Max: o.perDay, Period: 24 * time.Hour},
	}
	cfg.CreateLimits = []limit.Window{{Max: o.create, Period: time.Hour}}
	return cfg, nil
}

// bridgeDeps is what a command needs to reach the service.
type bridgeDeps struct {
	db      database
	svc     *bridge.Service
	metrics *metrics.Metrics // HTTP nodes only
}

func (d bridgeDeps) Close() error { return d.db.Close() }

// openForServe opens (creating) the database and key and builds the
// service.
func openForServe(ctx context.Context, o *options, getenv func(string) string, log *slog.Logger) (bridgeDeps, error) {
	path, err := o.dbPath(getenv)
	if err != nil {
		return bridgeDeps{}, err
	}
	cfg, err := o.config()
	if err != nil {
		return bridgeDeps{}, err
	}
	red := redact.Default()
	if o.redactRules != "" {
		if red, err = redact.Load(o.redactRules); err != nil {
			return bridgeDeps{}, fmt.Errorf("redaction rules: %w", err)
		}
	}
	keyPath, err := o.keyFileFor(path)
	if err != nil {
		return bridgeDeps{}, err
	}
	db, err := openDatabase(ctx, path)
	if err != nil {
		return bridgeDeps{}, err
	}
	key, createdKey, err := loadServeKey(keyPath)
	if err != nil {
		db.Close()
		return bridgeDeps{}, err
	}
	if wd, err := os.Getwd(); err == nil {
		cfg.Workdir = wd // lets hooks in this project find the agent's sessions
		cfg.Yolo.Workspace = wd
		host, _ := os.Hostname()
		cfg.Yolo.Origin = host + ":" + wd
	}
	cfg.Yolo.Hide = bridgeFiles(path, keyPath)
	if cfg.Yolo, err = yoloSettings(cfg.Yolo, o, getenv, log); err != nil {
		db.Close()
		return bridgeDeps{}, err
	}
	// An HTTP node is scraped for metrics; a stdio server has no port to
	// serve them on, so it keeps none.
	var m *metrics.Metrics
	var st bridge.Store = db
	if o.http.addr != "" {
		m = metrics.New()
		cfg.Events, st = m, m.Store(db)
	}
	svc := bridge.NewService(st, key, red, cfg, log)
	if err := checkServeKey(ctx, svc, db.Path(), keyPath, createdKey, o.initKey, log); err != nil {
		db.Close()
		return bridgeDeps{}, err
	}
	if m != nil {
		m.WatchWaiters(svc.Waiters)
	}
	return bridgeDeps{db: db, svc: svc, metrics: m}, nil
}

// openExisting opens a database and key that the server created; the
// management commands never create either.
func openExisting(ctx context.Context, o *options, getenv func(string) string, log *slog.Logger) (bridgeDeps, error) {
	path, err := o.dbPath(getenv)
	if err != nil {
		return bridgeDeps{}, err
	}
	if err := checkExists(path); err != nil {
		return bridgeDeps{}, err
	}
	keyPath, err := o.keyFileFor(path)
	if err != nil {
		return bridgeDeps{}, err
	}
	key, err := token.Load(keyPath)
	if err != nil {
		return bridgeDeps{}, err
	}
	db, err := openDatabase(ctx, path)
	if err != nil {
		return bridgeDeps{}, err
	}
	return bridgeDeps{db: db, svc: bridge.NewService(db, key, redact.Default(), bridge.DefaultConfig(), log)}, nil
}
