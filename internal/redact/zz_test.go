package redact

import (
	"strings"
	"testing"
)

func BenchmarkZZFind(b *testing.B) {
	unit := strings.Repeat("The handler retries the request twice, then logs the error and returns 503 to the caller. ", 12)[:1024]
	clean := strings.Repeat(unit, 50)
	r := Default()
	b.Logf("states %d classes %d words %d", len(r.keywords.delta)/r.keywords.classes, r.keywords.classes, len(r.keywords.words))
	for b.Loop() {
		r.keywords.find(clean)
	}
}
