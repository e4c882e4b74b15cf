package chainlock

import (
	"slices"
	"testing"
)

func TestOrder(t *testing.T) {
	var o Order
	got, err := o.Take([]string{"conv_b", "", "conv_a", "conv_b"})
	if err != nil || !slices.Equal(got, []string{"", "conv_a", "conv_b"}) {
		t.Fatalf("first take: %q %v", got, err)
	}
	if got, err := o.Take([]string{"conv_a", ""}); err != nil || len(got) != 0 {
		t.Fatalf("taking held locks again: %q %v", got, err)
	}
	if got, err := o.Take([]string{"conv_c"}); err != nil || !slices.Equal(got, []string{"conv_c"}) {
		t.Fatalf("a later chain: %q %v", got, err)
	}
	if _, err := o.Take([]string{"conv_bb"}); err == nil {
		t.Fatal("a chain sorting before one held was granted")
	}
	if _, err := o.Take([]string{"conv_d"}); err != nil {
		t.Fatalf("a refused take must record nothing: %v", err)
	}
}
