// Package audit computes and checks the digest chain of the audit trail.
//
// Each audit record carries a digest: HMAC-SHA256, keyed by a secret derived
// from the server key, over the record's fields and the previous record's
// digest. Editing any field, deleting or reordering rows, or inserting a row
// breaks the chain at that point, and recomputing the chain requires the key.
// A store holds many chains (one per conversation and a global one); each
// record names its chain, and the digest covers that name, so a row cannot
// move between chains. The package only computes; storing the records is
// the store's job.
package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
)

// Genesis is the "previous digest" of the first record.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Record is the content of one audit row that the digest covers.
type Record struct {
	Chain          string // "" for the global chain, else a conversation id
	Seq            int64
	At             int64 // Unix milliseconds
	Tool           string
	ConversationID string
	Session        string
	Outcome        string
	ErrorKind      string
	Detail         string
	// Refs names the rows of other tables the record vouches for (messages
	// it stored, chains it checkpointed), one per line.
	Refs string
}

// Digest returns the chain digest of r following prev.
func Digest(key []byte, prev string, r Record) string {
	m := hmac.New(sha256.New, key)
	writeString(m, "audit v2")
	writeString(m, r.Chain)
	writeString(m, r.Refs)
	return sum(m, prev, r)
}

// LegacyDigest is the digest of rows written before chains existed (one
// global chain, no refs). Such rows are only ever the global chain's prefix.
func LegacyDigest(key []byte, prev string, r Record) string {
	return sum(hmac.New(sha256.New, key), prev, r)
}

func sum(m hash.Hash, prev string, r Record) string {
	writeString(m, prev)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(r.Seq))
	m.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(r.At))
	m.Write(n[:])
	for _, s := range []string{r.Tool, r.ConversationID, r.Session, r.Outcome, r.ErrorKind, r.Detail} {
		writeString(m, s)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// writeString writes a length-prefixed string so field boundaries are unambiguous.
func writeString(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// Row is a stored record with its stored chain fields.
type Row struct {
	Record
	Prev   string
	Digest string
}

// Verifier checks rows fed to it in sequence order.
type Verifier struct {
	// Legacy accepts rows in the format from before chains (LegacyDigest)
	// until the first row in the current format: the global chain's prefix
	// written before an upgrade.
	Legacy bool
	// Chain names the chain in problems ("" for the global chain).
	Chain    string
	key      []byte
	prev     string
	lastSeq  int64
	Checked  int64
	Problems []Problem

	anchorSeq    int64 // Expect: a row that must still be there
	anchorDigest string
	anchorSeen   bool
}

// Problem is one break in the chain.
type Problem struct {
	Chain  string // "" for the global chain
	Seq    int64
	Reason string
}

func (p Problem) String() string {
	where := "row"
	if p.Chain != "" {
		where = "chain " + p.Chain + " row"
	}
	if p.Seq == 0 { // a problem outside the chain (a sealed row of another table)
		if p.Chain != "" {
			return "chain " + p.Chain + ": " + p.Reason
		}
		return p.Reason
	}
	return fmt.Sprintf("%s %d: %s", where, p.Seq, p.Reason)
}

// NewVerifier starts a verification of a chain from its first row.
func NewVerifier(key []byte) *Verifier {
	return &Verifier{key: key, prev: Genesis}
}

// NewVerifierAfter starts a verification of a chain whose rows up to seq
// were pruned, the last of them with digest prev (a checkpoint's record).
func NewVerifierAfter(key []byte, seq int64, prev string) *Verifier {
	return &Verifier{key: key, prev: prev, lastSeq: seq}
}

// Expect names a row that must still be in the chain with this digest: a
// head printed by an earlier verification and kept elsewhere. Rows cut from
// the end of a chain leave it intact, so only such an anchor shows them.
func (v *Verifier) Expect(seq int64, digest string) {
	v.anchorSeq, v.anchorDigest = seq, digest
}

// Add checks the next row. Rows must be given in ascending Seq order.
func (v *Verifier) Add(r Row) {
	v.Checked++
	if r.Seq != v.lastSeq+1 {
		v.Problems = append(v.Problems, Problem{Chain: v.Chain, Seq: r.Seq, Reason: fmt.Sprintf("rows %d to %d are missing (deleted)", v.lastSeq+1, r.Seq-1)})
	}
	if r.Prev != v.prev {
		v.Problems = append(v.Problems, Problem{Chain: v.Chain, Seq: r.Seq, Reason: "does not follow the row before it (a row was deleted, inserted or reordered)"})
	}
	if want := Digest(v.key, r.Prev, r.Record); hmac.Equal([]byte(want), []byte(r.Digest)) {
		v.Legacy = false // the prefix in the old format ends here
	} else if !v.Legacy || r.Refs != "" || !hmac.Equal([]byte(LegacyDigest(v.key, r.Prev, r.Record)), []byte(r.Digest)) {
		v.Problems = append(v.Problems, Problem{Chain: v.Chain, Seq: r.Seq, Reason: "content does not match its digest (the row was edited)"})
	}
	if v.anchorSeq != 0 && r.Seq == v.anchorSeq {
		v.anchorSeen = true
		if !hmac.Equal([]byte(r.Digest), []byte(v.anchorDigest)) {
			v.Problems = append(v.Problems, Problem{Chain: v.Chain, Seq: r.Seq, Reason: "is not the expected head: the chain was rewritten from this row on"})
		}
	}
	v.prev = r.Digest
	v.lastSeq = r.Seq
}

// Finish reports an expected head that never came: the rows from it to the
// end were cut (or pruned past it). Call it after the last Add.
func (v *Verifier) Finish() {
	if v.anchorSeq != 0 && !v.anchorSeen {
		v.Problems = append(v.Problems, Problem{Chain: v.Chain, Seq: v.anchorSeq, Reason: fmt.Sprintf("the expected head is missing: the chain ends at row %d (rows were cut from the end)", v.lastSeq)})
	}
}

// OK reports whether every row added so far checked out.
func (v *Verifier) OK() bool { return len(v.Problems) == 0 }

// Head returns the last sequence number and digest seen: keep it elsewhere to
// detect later truncation of the tail, which a chain alone cannot show.
func (v *Verifier) Head() (int64, string) { return v.lastSeq, v.prev }
