package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/agent-bridge/agent-bridge/internal/redact"
)

func redactCommand() command {
	return command{
		name: "redact", summary: "show what redaction does to a text", usage: "[FILE] [--redact-rules FILE] [--json]",
		help: `Reads FILE (or stdin), prints it as agent-bridge would store it, with each secret
replaced by [REDACTED:kind], and lists the findings on stderr (or, with --json, prints
the text and the findings as JSON). Use it to check a message or a --redact-rules file.`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.BoolVar(&o.json, "json", false, "print the text and the findings as JSON")
			fs.StringVar(&o.redactRules, "redact-rules", "", "`file` of extra redaction rules and allowlist entries")
		},
		run: func(ctx context.Context, e env, args []string) error {
			o, pos, err := parse(e, "redact", args)
			if err != nil {
				return err
			}
			var in io.Reader = e.stdin
			switch len(pos) {
			case 0:
			case 1:
				f, err := os.Open(pos[0])
				if err != nil {
					return fmt.Errorf("redact: %w", err)
				}
				defer f.Close()
				in = f
			default:
				return usagef("redact takes at most one file")
			}
			data, err := io.ReadAll(io.LimitReader(in, 64<<20))
			if err != nil {
				return fmt.Errorf("redact: %w", err)
			}
			r := redact.Default()
			if o.redactRules != "" {
				if r, err = redact.Load(o.redactRules); err != nil {
					return err
				}
			}
			out, found := r.Redact(string(data))
			if o.json {
				fs := make([]map[string]any, len(found))
				for i, f := range found {
					fs[i] = map[string]any{"kind": f.Kind, "start": f.Start, "end": f.End}
				}
				return printJSON(e.stdout, map[string]any{"text": out, "findings": fs})
			}
			fmt.Fprint(e.stdout, out)
			for _, c := range redact.Counts(found) {
				fmt.Fprintf(e.stderr, "redacted %d %s\n", c.N, c.Kind)
			}
			if len(found) == 0 {
				fmt.Fprintln(e.stderr, "no secrets found")
			}
			return nil
		},
	}
}
