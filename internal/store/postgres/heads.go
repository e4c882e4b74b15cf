package postgres

// auditHeads remembers, per chain, the last audit row this transaction
// appended or read under the chain's lock (ConversationMembers), so the
// next row of the same chain needs no query for its predecessor: within
// the transaction, under the chain's lock, nothing else can append to it.
type auditHeads map[string]auditHead

type auditHead struct {
	seq    int64
	digest string
}

func (h *auditHeads) set(chain string, seq int64, digest string) {
	if *h == nil {
		*h = auditHeads{}
	}
	(*h)[chain] = auditHead{seq, digest}
}
