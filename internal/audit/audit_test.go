package audit

import "testing"

func chain(key []byte, n int) []Row {
	rows := make([]Row, n)
	prev := Genesis
	for i := range rows {
		r := Record{Seq: int64(i + 1), At: int64(1000 * i), Tool: "send_to_partner", ConversationID: "conv_0123456789abcdef", Session: "a", Outcome: "ok"}
		d := Digest(key, prev, r)
		rows[i] = Row{Record: r, Prev: prev, Digest: d}
		prev = d
	}
	return rows
}

func verify(key []byte, rows []Row) *Verifier {
	v := NewVerifier(key)
	for _, r := range rows {
		v.Add(r)
	}
	return v
}

func TestChain(t *testing.T) {
	key := []byte("k")
	if v := verify(key, chain(key, 5)); !v.OK() || v.Checked != 5 {
		t.Fatalf("intact chain: %v", v.Problems)
	}
	if seq, _ := verify(key, chain(key, 5)).Head(); seq != 5 {
		t.Errorf("head seq %d", seq)
	}
	tamper := map[string]func([]Row) []Row{
		"edited field":   func(r []Row) []Row { r[2].Outcome = "refused"; return r },
		"edited session": func(r []Row) []Row { r[1].Session = "b"; return r },
		"edited time":    func(r []Row) []Row { r[3].At++; return r },
		"deleted middle": func(r []Row) []Row { return append(r[:2], r[3:]...) },
		"deleted first":  func(r []Row) []Row { return r[1:] },
		"swapped":        func(r []Row) []Row { r[1], r[2] = r[2], r[1]; return r },
		"renumbered after delete": func(r []Row) []Row {
			r = append(r[:2], r[3:]...)
			for i := range r {
				r[i].Seq = int64(i + 1)
			}
			return r
		},
	}
	for name, f := range tamper {
		if v := verify(key, f(chain(key, 5))); v.OK() {
			t.Errorf("%s: not detected", name)
		}
	}
	if v := verify([]byte("other"), chain(key, 3)); v.OK() {
		t.Error("chain verified under another key")
	}
}

func TestDigestFieldBoundaries(t *testing.T) {
	a := Record{Tool: "ab", ConversationID: "c"}
	b := Record{Tool: "a", ConversationID: "bc"}
	if Digest(nil, Genesis, a) == Digest(nil, Genesis, b) {
		t.Error("field boundary ambiguity")
	}
}
