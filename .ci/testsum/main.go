// Command testsum reads `go test -json` on stdin and prints what a person
// needs from it: each package's result line, the full output of failing
// tests, one line per package and reason for skipped tests (so a suite
// that skipped is seen, with why), and a closing count. It exits 1 when
// anything failed. `make test` runs it; it is no part of agent-bridge.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	os.Exit(run(os.Stdin, os.Stdout))
}

func run(in io.Reader, out io.Writer) int {
	type key struct{ pkg, test string }
	outputs := map[key][]string{}
	type skipKey struct{ pkg, reason string }
	skips := map[skipKey][]string{}
	var passed, failed, skipped int
	bad := false
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			fmt.Fprintln(out, sc.Text()) // build errors and the like
			continue
		}
		k := key{ev.Package, ev.Test}
		switch ev.Action {
		case "output":
			if ev.Test == "" {
				// Package lines: ok, FAIL, build errors, "no test files".
				o := ev.Output
				if strings.HasPrefix(o, "ok ") || strings.HasPrefix(o, "FAIL") || strings.HasPrefix(o, "?") ||
					!(strings.HasPrefix(o, "=== ") || strings.HasPrefix(o, "--- ") || o == "PASS\n" || strings.HasPrefix(o, "    ")) {
					fmt.Fprint(out, o)
				}
				continue
			}
			outputs[k] = append(outputs[k], ev.Output)
		case "pass":
			if ev.Test != "" {
				passed++
				delete(outputs, k)
			}
		case "fail":
			if ev.Test != "" {
				failed++
				fmt.Fprint(out, strings.Join(outputs[k], ""))
				delete(outputs, k)
			}
			bad = true
		case "skip":
			if ev.Test == "" {
				continue
			}
			skipped++
			if !strings.Contains(ev.Test, "/") { // a subtest's reason is its parent's
				r := reason(outputs[k])
				sk := skipKey{ev.Package, r}
				skips[sk] = append(skips[sk], ev.Test)
			}
			delete(outputs, k)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testsum:", err)
		bad = true
	}
	keys := make([]skipKey, 0, len(skips))
	for k := range skips {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].pkg != keys[j].pkg {
			return keys[i].pkg < keys[j].pkg
		}
		return keys[i].reason < keys[j].reason
	})
	for _, k := range keys {
		tests := skips[k]
		fmt.Fprintf(out, "SKIPPED %d test(s) in %s: %s (%s)\n", len(tests), k.pkg, k.reason, examples(tests))
	}
	fmt.Fprintf(out, "%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if bad || failed > 0 {
		return 1
	}
	return 0
}

// reason is the last message a skipped test logged, without its file:line.
func reason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- ") {
			continue
		}
		if _, after, ok := strings.Cut(l, ": "); ok && strings.Contains(l[:len(l)-len(after)], ".go:") {
			l = after
		}
		return l
	}
	return "no reason given"
}

func examples(tests []string) string {
	sort.Strings(tests)
	if len(tests) > 3 {
		return strings.Join(tests[:3], ", ") + ", ..."
	}
	return strings.Join(tests, ", ")
}
