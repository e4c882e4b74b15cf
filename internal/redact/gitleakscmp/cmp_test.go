// Package gitleakscmp compares agent-bridge's redaction with gitleaks'
// default detector on the same corpora and inputs, in one run.
package gitleakscmp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/log"
	"github.com/zricethezav/gitleaks/v8/detect"

	"github.com/agent-bridge/agent-bridge/internal/redact"
)

type line struct{ Kind, Text, Secret string }

func load(t testing.TB, path string) []line {
	f, err := os.Open(path)
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	var out []line
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

func gitleaks(t testing.TB) *detect.Detector {
	log.Logger = zerolog.New(io.Discard)
	d, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// withGitleaks replaces every secret gitleaks finds, as a bridge using it
// would.
func withGitleaks(d *detect.Detector, text string) string {
	for _, f := range d.DetectString(text) {
		if f.Secret != "" {
			text = strings.ReplaceAll(text, f.Secret, "[REDACTED]")
		}
	}
	return text
}

// TestScores prints recall (secret gone) and clean lines altered for both.
func TestScores(t *testing.T) {
	d := gitleaks(t)
	for _, path := range []string{"../../../testdata/redact/corpus.jsonl", "../../../../shared/redaction/sample.jsonl"} {
		lines := load(t, path)
		for _, who := range []struct {
			name string
			fn   func(string) string
		}{{"agent-bridge", redact.Default().Text}, {"gitleaks", func(s string) string { return withGitleaks(d, s) }}} {
			var pos, caught, neg, altered int
			for _, l := range lines {
				out := who.fn(l.Text)
				if l.Secret == "" {
					neg++
					if out != l.Text {
						altered++
					}
					continue
				}
				pos++
				if !strings.Contains(out, l.Secret) {
					caught++
				}
			}
			t.Logf("%s on %s: recall %.3f (%d/%d), clean altered %.3f (%d/%d)", who.name, path,
				float64(caught)/float64(pos), caught, pos, float64(altered)/float64(neg), altered, neg)
		}
	}
}

// BenchmarkCompare uses the inputs of internal/redact's BenchmarkRedact.
func BenchmarkCompare(b *testing.B) {
	d := gitleaks(b)
	unit := strings.Repeat("The handler retries the request twice, then logs the error and returns 503 to the caller. ", 12)[:1024]
	secrets := []string{" key AKIAQYLPMN5HHHFPZAM2 ", " password=Tr0ub4dor&3x ", " token ghp_Zx8vQ2mN4kL7pR9sT1uW3yA5bC6dE8fG0hJ2 "}
	for _, size := range []int{1 << 10, 10 << 10, 50 << 10} {
		clean := strings.Repeat(unit, size/len(unit)+1)[:size]
		sparse := clean
		for i, sec := range secrets {
			at := (i + 1) * size / 4
			sparse = sparse[:at] + sec + sparse[at+len(sec):]
		}
		dense := strings.Repeat(unit[:900]+secrets[0]+secrets[1], size/900+1)[:size]
		for _, in := range []struct{ name, text string }{{"clean", clean}, {"sparse", sparse}, {"dense", dense}} {
			b.Run(fmt.Sprintf("agent-bridge/%s/%dKB", in.name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(len(in.text)))
				b.ReportAllocs()
				for b.Loop() {
					redact.Default().Redact(in.text)
				}
			})
			b.Run(fmt.Sprintf("gitleaks/%s/%dKB", in.name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(len(in.text)))
				b.ReportAllocs()
				for b.Loop() {
					d.DetectString(in.text)
				}
			})
		}
	}
}
