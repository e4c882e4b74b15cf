package sqlite

import (
	"path/filepath"
	"testing"
)

// BenchmarkWriteLockUncontended: the cost every write transaction pays
// for the write lock when no other writer holds it.
//
//	go test -run '^$' -bench WriteLock ./internal/store/sqlite
func BenchmarkWriteLockUncontended(b *testing.B) {
	l, err := newWriteLock(filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer l.close()
	b.ReportAllocs()
	for b.Loop() {
		if err := l.lock(); err != nil {
			b.Fatal(err)
		}
		l.unlock()
	}
}
