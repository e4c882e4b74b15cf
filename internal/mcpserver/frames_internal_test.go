package mcpserver

import (
	"io"
	"strings"
	"testing"
)

func TestFrameLimiterPassesSmallFramesByteForByte(t *testing.T) {
	in := "{\"a\":1}\n\n{\"b\":\"" + strings.Repeat("y", 200<<10) + "\"}\n{\"tail\":true}"
	out, err := io.ReadAll(newFrameLimiter(strings.NewReader(in), 1<<20))
	if err != nil || string(out) != in {
		t.Fatalf("pass-through changed the stream (err %v, %d bytes in, %d out)", err, len(in), len(out))
	}
}

func TestFrameLimiterReplacesOnlyTheOversizedLine(t *testing.T) {
	big := `{"params":{"x":"` + strings.Repeat("z", 5000) + `"},"id":3}`
	in := "{\"id\":1}\n" + big + "\n{\"id\":2}\n"
	out, err := io.ReadAll(newFrameLimiter(strings.NewReader(in), 1000))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 3 || lines[0] != `{"id":1}` || lines[2] != `{"id":2}` {
		t.Fatalf("lines around the oversized one changed: %q", out)
	}
	// The id came after the cut: the stand-in has none, but says why.
	if !strings.Contains(lines[1], oversized) || strings.Contains(lines[1], `"id"`) || strings.Contains(lines[1], "zzz") {
		t.Fatalf("stand-in: %s", lines[1])
	}
}
