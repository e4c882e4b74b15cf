// Command agent-bridge lets AI coding agents talk to each other through a
// shared conversation. Launched by an MCP client it serves the bridge's
// tools over stdio; run by a person it manages the bridge's database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, errHelpShown) {
		var u usageError
		if !errors.As(err, &u) || u.msg != "" {
			fmt.Fprintln(os.Stderr, "agent-bridge:", err)
		}
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake on the command line; it exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, v ...any) error { return usageError{fmt.Sprintf(format, v...)} }

// env is the process environment as seen by run (os.Getenv in main).
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	usage   string // arguments after the command name
	help    string // the full explanation; flags are listed after it
	// flags defines the command's own flags; nil for none.
	flags func(fs *flag.FlagSet, o *options)
	run   func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		serveCommand(), listCommand(), showCommand(), statusCommand(), watchCommand(), hookCommand(), watchdogCommand(),
		extendCommand(), tokensCommand(), auditCommand(), cleanupCommand(), exportCommand(), importCommand(), backupCommand(),
		tasksCommand(), leasesCommand(), guardCommand(),
		approveWithFlags(), consoleCommand(), redactCommand(), versionCommand(), helpCommand(),
	}
}

// approveWithFlags is approveCommand (approve.go) with its flags.
func approveWithFlags() command {
	c := approveCommand()
	c.flags = approveFlags
	return c
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// run is main without the process: it takes the arguments (without the
// program name), the environment and the standard streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		return serveCommand().run(ctx, e, nil)
	}
	switch first := args[0]; {
	case first == "help" || first == "-h" || first == "--help" || first == "-help":
		return help(e, args[1:])
	case first == "--version" || first == "-version":
		return versionCommand().run(ctx, e, nil)
	case strings.HasPrefix(first, "-"):
		// Flags without a command: serve (agent-bridge --db PATH).
		return serveCommand().run(ctx, e, args)
	default:
		if c, ok := findCommand(first); ok {
			return c.run(ctx, e, args[1:])
		}
		if looksLikePath(first) {
			// The original's form: agent-bridge PATH.
			return serveCommand().run(ctx, e, args)
		}
		return usagef("unknown command %q; run 'agent-bridge help' for the list", first)
	}
}

// looksLikePath tells a database path from a mistyped command.
func looksLikePath(s string) bool {
	return strings.ContainsAny(s, "/.\\") || strings.HasSuffix(s, ".db")
}

const overview = `agent-bridge lets AI coding agents (Claude Code, Codex, any MCP client) talk to each other
through conversations stored in one SQLite database shared by every agent on the machine.

An MCP client launches it as a stdio server:
  agent-bridge [serve] [--db PATH] [flags]
  agent-bridge PATH                      (same as serve --db PATH)

Agents on other machines reach it over MCP Streamable HTTP:
  agent-bridge serve --http ADDR [flags]  (serves http://ADDR/mcp; see 'agent-bridge help serve')

People manage the database with:
`

func helpCommand() command {
	return command{
		name: "help", summary: "list the commands, or show one command's usage and flags", usage: "[COMMAND]",
		help: `Without COMMAND, lists the commands. With one, prints its usage, what it does and its
flags. 'agent-bridge COMMAND --help' does the same.`,
		run: func(ctx context.Context, e env, args []string) error { return help(e, args) },
	}
}

func help(e env, args []string) error {
	if len(args) > 1 {
		return usagef("help takes at most one command; got %q", args)
	}
	if len(args) == 1 {
		c, ok := findCommand(args[0])
		if !ok {
			return usagef("unknown command %q; run 'agent-bridge help' for the list", args[0])
		}
		fmt.Fprintf(e.stdout, "usage: %s\n\n%s\n", strings.TrimSpace("agent-bridge "+c.name+" "+c.usage), c.help)
		fs := newFlagSet(c.name)
		defineFlags(c, fs)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n == 0 {
			fmt.Fprintln(e.stdout, "\nIt takes no flags.")
			return nil
		}
		fmt.Fprintln(e.stdout, "\nflags (those marked [$VAR] can also be set in the environment):")
		fs.VisitAll(func(f *flag.Flag) {
			kind, usage := flag.UnquoteUsage(f)
			if kind != "" {
				kind = " " + kind
			}
			def := ""
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
				def = " (default " + f.DefValue + ")"
			}
			dash := "--" // one-letter flags read as -n, as in the usage lines
			if len(f.Name) == 1 {
				dash = "-"
			}
			fmt.Fprintf(e.stdout, "  %s%s%s\n      %s%s\n", dash, f.Name, kind, usage, def)
		})
		return nil
	}
	fmt.Fprint(e.stdout, overview)
	for _, c := range commands() {
		fmt.Fprintf(e.stdout, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(e.stdout, `
Run 'agent-bridge help COMMAND' for a command's flags. Every command that opens the
database takes --db PATH; without it the database is $AGENT_BRIDGE_DB, else
%s,
so agents in different folders share it. A postgres:// URL in --db shares a PostgreSQL
database across machines; it needs --key-file.
`, defaultDBHelp())
	return nil
}
