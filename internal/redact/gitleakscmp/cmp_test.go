// Package gitleakscmp compares agent-bridge's redaction with gitleaks'
// default detector on the same corpora and inputs, in one run.
package gitleakscmp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// sample finds the shared redaction sample above this directory (see
// internal/redact's TestSharedSample), or "" when there is none.
func sample() string {
	if p := os.Getenv("AGENT_BRIDGE_REDACTION_SAMPLE"); p != "" {
		return p
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "shared", "redaction", "sample.jsonl")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

type score struct{ pos, caught, neg, altered int }

func (s score) recall() float64     { return float64(s.caught) / float64(max(s.pos, 1)) }
func (s score) falseAlarm() float64 { return float64(s.altered) / float64(max(s.neg, 1)) }

func measure(lines []line, redact func(string) string) score {
	var s score
	for _, l := range lines {
		out := redact(l.Text)
		if l.Secret == "" {
			s.neg++
			if out != l.Text {
				s.altered++
			}
			continue
		}
		s.pos++
		if !strings.Contains(out, l.Secret) {
			s.caught++
		}
	}
	return s
}

// TestScores measures recall (secret gone) and clean lines altered for
// both detectors on our corpus and the shared sample, and fails unless
// agent-bridge finds more than gitleaks, with recall of at least 0.99 and
// at most 1% of clean lines altered.
func TestScores(t *testing.T) {
	d := gitleaks(t)
	files, _ := filepath.Glob("../../../testdata/redact/*.jsonl")
	if p := sample(); p != "" {
		files = append(files, p)
	}
	for _, path := range files {
		lines := load(t, path)
		ours := measure(lines, redact.Default().Text)
		theirs := measure(lines, func(s string) string { return withGitleaks(d, s) })
		for _, r := range []struct {
			name string
			s    score
		}{{"agent-bridge", ours}, {"gitleaks", theirs}} {
			t.Logf("%s on %s: recall %.3f (%d/%d), clean altered %.3f (%d/%d)", r.name, filepath.Base(path),
				r.s.recall(), r.s.caught, r.s.pos, r.s.falseAlarm(), r.s.altered, r.s.neg)
		}
		if ours.recall() <= theirs.recall() {
			t.Errorf("%s: agent-bridge recall %.3f is not above gitleaks' %.3f", path, ours.recall(), theirs.recall())
		}
		if ours.recall() < 0.99 {
			t.Errorf("%s: agent-bridge recall %.3f, want >= 0.99", path, ours.recall())
		}
		if ours.falseAlarm() > 0.01 {
			t.Errorf("%s: agent-bridge altered %.3f of clean lines, want <= 0.01", path, ours.falseAlarm())
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
