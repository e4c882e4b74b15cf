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

func TestExpectedHeadCatchesTruncation(t *testing.T) {
	key := []byte("k")
	rows := chain(key, 6)
	head := rows[3] // printed by an earlier verify, kept elsewhere
	check := func(rows []Row, seq int64, digest string) *Verifier {
		v := NewVerifier(key)
		v.Expect(seq, digest)
		for _, r := range rows {
			v.Add(r)
		}
		v.Finish()
		return v
	}
	if v := check(rows, head.Seq, head.Digest); !v.OK() {
		t.Fatalf("a chain that grew past its head: %v", v.Problems)
	}
	if v := check(rows[:3], head.Seq, head.Digest); v.OK() {
		t.Fatal("a chain cut before its expected head verified")
	}
	if v := check(rows, head.Seq, rows[2].Digest); v.OK() {
		t.Fatal("a different digest at the expected row verified")
	}
	if v := verify(key, rows[:3]); !v.OK() {
		t.Fatal("without an anchor a cut tail is invisible, and reported as intact")
	}
}

func TestVerifierAfterCheckpoint(t *testing.T) {
	key := []byte("k")
	rows := chain(key, 6)
	v := NewVerifierAfter(key, 2, rows[1].Digest)
	for _, r := range rows[2:] {
		v.Add(r)
	}
	if !v.OK() || v.Checked != 4 {
		t.Fatalf("a chain pruned through row 2: %v", v.Problems)
	}
	v = NewVerifierAfter(key, 2, rows[1].Digest)
	for _, r := range rows[3:] { // row 3 deleted too
		v.Add(r)
	}
	if v.OK() {
		t.Fatal("a row deleted past the checkpoint was not reported")
	}
}

// Rows in the format from before chains verify only as a chain's prefix,
// and only where the verifier allows it (the global chain after an
// upgrade); a row in that format after one in the current format, or one
// naming refs, is reported as edited.
func TestLegacyPrefix(t *testing.T) {
	key := []byte("k")
	var rows []Row
	prev := Genesis
	for i := 1; i <= 4; i++ {
		r := Record{Seq: int64(i), At: int64(i), Tool: "send_to_partner", Outcome: "ok"}
		d := Digest(key, prev, r)
		if i <= 2 {
			d = LegacyDigest(key, prev, r)
		}
		rows = append(rows, Row{Record: r, Prev: prev, Digest: d})
		prev = d
	}
	v := NewVerifier(key)
	v.Legacy = true
	for _, r := range rows {
		v.Add(r)
	}
	if !v.OK() {
		t.Fatalf("a legacy prefix: %v", v.Problems)
	}
	if v := verify(key, rows); v.OK() {
		t.Fatal("legacy rows verified where none are allowed")
	}
	// A legacy-format row after the prefix ended.
	r := Record{Seq: 5, At: 5, Tool: "t", Outcome: "ok"}
	late := append(rows[:4:4], Row{Record: r, Prev: prev, Digest: LegacyDigest(key, prev, r)})
	v = NewVerifier(key)
	v.Legacy = true
	for _, r := range late {
		v.Add(r)
	}
	if v.OK() {
		t.Fatal("a legacy row after the prefix verified")
	}
	// The chain name is covered: a row cannot move to another chain.
	moved := rows[3]
	moved.Chain = "conv_0123456789abcdef"
	if Digest(key, moved.Prev, moved.Record) == moved.Digest {
		t.Fatal("the digest does not cover the chain")
	}
}
