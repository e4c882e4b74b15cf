package bridge

import (
	"testing"
	"time"
)

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		3 * time.Hour: "3 hours", time.Hour: "1 hour", 2 * time.Minute: "2 minutes",
		90 * time.Second: "90 seconds", 1500 * time.Millisecond: "2 seconds", 24 * time.Hour: "24 hours",
	} {
		if got := Human(d); got != want {
			t.Errorf("Human(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestFormatTime(t *testing.T) {
	at := time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.FixedZone("x", 3600))
	if got := FormatTime(at); got != "2026-11-24T11:00:00.123Z" {
		t.Fatal(got)
	}
	if FormatTime(time.Time{}) != "" {
		t.Fatal("zero time")
	}
}
