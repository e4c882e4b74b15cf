package redact

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedactKinds(t *testing.T) {
	cases := []struct {
		in, secret, kind string
	}{
		{"the key is AKIAQYLPMN5HHHFPZAM2 for prod", "AKIAQYLPMN5HHHFPZAM2", "aws-access-key-id"},
		{"aws_secret_access_key = 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", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8r3kL2mN", "aws-secret-access-key"},
		{"token ghp_Zx8vQ2mN4kL7pR9sT1uW3yA5bC6dE8fG0hJ2 expired", "ghp_Zx8vQ2mN4kL7pR9sT1uW3yA5bC6dE8fG0hJ2", "github-token"},
		{"OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9", "openai-api-key"},
		{"curl -H 'Authorization: Bearer a8Fk2Lq9Zx7Vb3Nm5Qw1Er6Ty' https://api", "a8Fk2Lq9Zx7Vb3Nm5Qw1Er6Ty", "bearer-token"},
		{"the password is hunter2 ok", "hunter2", "password"},
		{"DB_PASSWORD=Tr0ub4dor&3 ./run.sh", "Tr0ub4dor&3", "password"},
		{`{"password": "s3cr3t-Pa55"}`, "s3cr3t-Pa55", "password"},
		{"api_key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "api-key"},
		{"postgres://app:Sup3rS3cret@db:5432/app", "Sup3rS3cret", "url-password"},
		{"x -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nabc=\n-----END RSA PRIVATE KEY----- y", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nabc=\n-----END RSA PRIVATE KEY-----", "private-key"},
		{"export VAULT_TOKEN=s.IAw4ynSOrI236T42TA7URkvP now", "s.IAw4ynSOrI236T42TA7URkvP", "secret"},
	}
	for _, tc := range cases {
		out, f := Default().Redact(tc.in)
		want := strings.Replace(tc.in, tc.secret, Placeholder(tc.kind), 1)
		if out != want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", tc.in, out, want)
		}
		if len(f) != 1 || f[0].Kind != tc.kind || tc.in[f[0].Start:f[0].End] != tc.secret {
			t.Errorf("Redact(%q) findings %+v", tc.in, f)
		}
	}
}

func TestCleanTextUnchanged(t *testing.T) {
	for _, in := range []string{
		"reset your password in the settings page",
		"commit 3f2a9c1e8b7d6f5a4e3d2c1b0a9f8e7d6c5b4a39 fixed the token refresh",
		"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"request id 123e4567-e89b-12d3-a456-426614174000",
		"password: ${DB_PASSWORD}",
		"api_key = os.Getenv(\"API_KEY\")",
		"token := tokenizer.Next()",
		"Authorization: Bearer <YOUR_API_KEY>",
		"set OPENAI_API_KEY=your-key-here",
		"type Config struct { Password string; Token string }",
		"TOKEN_TTL: 1h",
		"the password is required",
	} {
		if out, f := Default().Redact(in); out != in || f != nil {
			t.Errorf("clean text changed: %q -> %q", in, out)
		}
	}
}

type corpusLine struct {
	Kind   string `json:"kind"`
	Text   string `json:"text"`
	Secret string `json:"secret"`
}

func readCorpus(t *testing.T, path string) []corpusLine {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			t.Skipf("%s not present", path)
		}
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l corpusLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, l)
	}
	return out
}

// score is the accuracy of a redactor on a labelled corpus.
type score struct {
	pos, caught, neg, altered int
	missed, alarms            []string // kinds, for the failure message
}

func (s score) recall() float64 {
	if s.pos == 0 {
		return 1
	}
	return float64(s.caught) / float64(s.pos)
}

func (s score) falseAlarm() float64 {
	if s.neg == 0 {
		return 0
	}
	return float64(s.altered) / float64(s.neg)
}

// scoreCorpus measures recall and the rate of clean lines altered. A
// secret counts as caught when it is gone and the context kept: every
// "ctx:" phrase of the text (the marker the corpus format puts outside the
// secret) is still there.
func scoreCorpus(t *testing.T, lines []corpusLine) score {
	var s score
	for _, l := range lines {
		out := Default().Text(l.Text)
		if l.Secret == "" {
			s.neg++
			if out != l.Text {
				s.altered++
				s.alarms = append(s.alarms, l.Kind)
				t.Logf("clean %s altered: %q", l.Kind, out)
			}
			continue
		}
		s.pos++
		if !strings.Contains(out, l.Secret) && contextKept(l.Text, out) {
			s.caught++
		} else {
			s.missed = append(s.missed, l.Kind)
			t.Logf("missed %s: %q", l.Kind, out)
		}
	}
	t.Logf("%d secrets, recall %.3f; %d clean, %.3f altered", s.pos, s.recall(), s.neg, s.falseAlarm())
	return s
}

// assertFloor fails the test when recall or the clean-text rate is worse
// than the floor.
func assertFloor(t *testing.T, s score, minRecall, maxAltered float64) {
	t.Helper()
	if s.recall() < minRecall {
		t.Errorf("recall %.3f (%d/%d), want >= %.3f; missed kinds %v", s.recall(), s.caught, s.pos, minRecall, s.missed)
	}
	if s.falseAlarm() > maxAltered {
		t.Errorf("clean lines altered %.3f (%d/%d), want <= %.3f; kinds %v", s.falseAlarm(), s.altered, s.neg, maxAltered, s.alarms)
	}
}

// contextKept reports whether every ctx: phrase of in (up to 30 bytes or
// the end of its line) survives in out.
func contextKept(in, out string) bool {
	for off := 0; ; {
		i := strings.Index(in[off:], "ctx:")
		if i < 0 {
			return true
		}
		p := in[off+i:]
		if n := strings.IndexByte(p, '\n'); n >= 0 {
			p = p[:n]
		}
		if len(p) > 30 {
			p = p[:30]
		}
		if !strings.Contains(out, p) {
			return false
		}
		off += i + 4
	}
}

func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/redact/*.jsonl")
	if len(files) == 0 {
		t.Fatal("no corpus under testdata/redact")
	}
	var lines []corpusLine
	for _, f := range files {
		lines = append(lines, readCorpus(t, f)...)
	}
	s := scoreCorpus(t, lines)
	if s.pos < 500 || s.neg < 250 {
		t.Errorf("corpus has %d secrets and %d clean lines; keep at least 500 and 250", s.pos, s.neg)
	}
	assertFloor(t, s, 0.99, 0.01)
}

// sharedSample finds the shared redaction sample (the style of the
// held-out corpus), which lives beside the checkout (or a worktree of it):
// the nearest shared/redaction/sample.jsonl in a parent directory, or the
// file named by AGENT_BRIDGE_REDACTION_SAMPLE.
func sharedSample(t *testing.T) string {
	if p := os.Getenv("AGENT_BRIDGE_REDACTION_SAMPLE"); p != "" {
		return p
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "redaction", "sample.jsonl")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("shared/redaction/sample.jsonl not found above the package; set AGENT_BRIDGE_REDACTION_SAMPLE")
		}
		dir = parent
	}
}

// Every secret of the shared sample is caught and no clean line of it
// altered.
func TestSharedSample(t *testing.T) {
	assertFloor(t, scoreCorpus(t, readCorpus(t, sharedSample(t))), 1, 0)
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "rules")
	os.WriteFile(good, []byte("# ours\nrule acme-token acme_ \\bacme_[A-Za-z0-9]{16}\\b\nallow ^AKIAQYLPMN5HHHFPZAM2$\n"), 0o600)
	r, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Text("use acme_0123456789abcdef and AKIAQYLPMN5HHHFPZAM2"); got != "use [REDACTED:acme-token] and AKIAQYLPMN5HHHFPZAM2" {
		t.Fatalf("got %q", got)
	}
	for content, want := range map[string]string{
		"rule Bad_Kind - x\n": "rules:1: kind",
		"rule k - (\n":        "rules:1: error parsing regexp",
		"\nfrobnicate x\n":    "rules:2: unknown directive",
		"rule k\n":            "rules:1: want",
	} {
		os.WriteFile(good, []byte(content), 0o600)
		if _, err := Load(good); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%q): %v, want %q", content, err, want)
		}
	}
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"", "plain text", "the password is hunter2", "AKIAQYLPMN5HHHFPZAM2",
		"-----BEGIN PRIVATE KEY-----\nabc\n", "Bearer abcdefghijklmnop1234", "x://u:p@h",
		"password=[REDACTED:password]", "\xff\xfe", "token: ééééééééé1",
		// Shapes added for issue 15.
		"pass\u200bword=Tr0ub4dor&3", "ｐａｓｓｗｏｒｄ： s3cr3t!x", "sk_live_Ab3\u200bdEf6hIj9kLm2nOp5qRs8t",
		"GITHUB_TOKEN=ghp_Zx8vQ2mN4kL7\npR9sT1uW3yA5bC6dE8fG0hJ2 ok", "a\r\nDB_PASSWORD=x9!kLm2q\r\n",
		"kind: Secret\ndata:\n  password: cGFzc3dvcmQxMjM=\n  key: |\n    abc\n", "| user | password |\n|---|---|\n| a | Xy9!abcd |",
		"mysql -uroot -pS3cret! db", "echo 'p4ss!word' | docker login -u x --password-stdin r",
		"- name: DB_PASSWORD\n  value: \"s3cr3t-P4ss\"", "redis://:p@ss@host:6379", "{\\\"password\\\":\\\"s3cr3t\\\"}",
		"PRIVATE_KEY=0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
		"Cookie: sessionid=AbCdEf0123456789xyZ", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "\ufeff\u200b\u200c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, found := Default().Redact(s)
		for _, x := range found {
			if x.Start < 0 || x.End > len(s) || x.Start >= x.End {
				t.Fatalf("bad finding %+v", x)
			}
		}
		if again := Default().Text(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, again)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("valid UTF-8 in, invalid out: %q -> %q", s, out)
		}
		if len(found) == 0 && out != s {
			t.Fatalf("changed without findings")
		}
	})
}

// BenchmarkRedact: clean text; "sparse", three secrets in the message
// whatever its size (a pasted config or log); "dense", a secret pair in
// every kilobyte (the worst case we measure).
func BenchmarkRedact(b *testing.B) {
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
			b.Run(fmt.Sprintf("%s/%dKB", in.name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(len(in.text)))
				b.ReportAllocs()
				for b.Loop() {
					Default().Redact(in.text)
				}
			})
		}
	}
}
