package limit

import (
	"testing"
	"time"
)

var defaults = []Window{{10, time.Minute}, {100, time.Hour}, {500, 24 * time.Hour}}

func times(base time.Time, step time.Duration, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = base.Add(time.Duration(i) * step)
	}
	return out
}

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		now     time.Time
		ws      []Window
		past    []time.Time
		allowed bool
		window  time.Duration
		retry   time.Time
	}{
		{"empty", t0, defaults, nil, true, 0, time.Time{}},
		{"nine in a minute", t0.Add(9 * time.Second), defaults, times(t0, time.Second, 9), true, 0, time.Time{}},
		{"tenth allowed, eleventh not", t0.Add(10 * time.Second), defaults, times(t0, time.Second, 10), false, time.Minute, t0.Add(time.Minute)},
		{"window slides", t0.Add(time.Minute + time.Second/2), defaults, times(t0, time.Second, 10), true, 0, time.Time{}},
		{"exactly one period later", t0.Add(time.Minute), defaults, times(t0, time.Second, 10), true, 0, time.Time{}},
		{"hour window", t0.Add(100 * 7 * time.Second), defaults, times(t0, 7*time.Second, 100), false, time.Hour, t0.Add(time.Hour)},
		{"off", t0, []Window{{0, time.Minute}}, times(t0, 0, 1000), true, 0, time.Time{}},
		{"longest wait wins", t0.Add(100 * time.Second), []Window{{1, time.Minute}, {2, time.Hour}}, times(t0, 50*time.Second, 3), false, time.Hour, t0.Add(50*time.Second + time.Hour)},
	} {
		d := Decide(tc.now, tc.ws, tc.past)
		if d.Allowed != tc.allowed {
			t.Errorf("%s: allowed=%v", tc.name, d.Allowed)
			continue
		}
		if !d.Allowed && (d.Window.Period != tc.window || !d.RetryAt.Equal(tc.retry)) {
			t.Errorf("%s: window %v retry %v, want %v %v", tc.name, d.Window.Period, d.RetryAt, tc.window, tc.retry)
		}
	}
}

func TestHorizonAndName(t *testing.T) {
	if h := Horizon(defaults); h != 24*time.Hour {
		t.Errorf("horizon %v", h)
	}
	if h := Horizon([]Window{{0, 24 * time.Hour}, {5, time.Minute}}); h != time.Minute {
		t.Errorf("horizon ignores off windows: %v", h)
	}
	if n := defaults[1].Name(); n != "100 requests per hour" {
		t.Errorf("name %q", n)
	}
}
