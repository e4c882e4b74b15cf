package bridge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
)

// seal returns a with its MAC set over every other field, under a key
// derived from the bridge's key. Every approval is sealed as it is
// written, and honoured only when sealed returns true for it.
func (s *Service) seal(a Approval) Approval {
	a.MAC = s.approvalMAC(a)
	return a
}

// sealed reports whether a's MAC verifies: it was written by agent-bridge
// with this key and not changed since.
func (s *Service) sealed(a Approval) bool {
	return a.MAC != "" && hmac.Equal([]byte(a.MAC), []byte(s.approvalMAC(a)))
}

func (s *Service) approvalMAC(a Approval) string {
	m := hmac.New(sha256.New, s.rowKey)
	ms := func(t interface{ UnixMilli() int64 }) string { return strconv.FormatInt(t.UnixMilli(), 10) }
	zeroOr := func(zero bool, v string) string {
		if zero {
			return ""
		}
		return v
	}
	for _, f := range []string{
		"approval v1", a.ID, a.Kind, a.ConversationID, string(a.Session), a.Mode, a.Workspace,
		strconv.FormatInt(a.Timeout.Milliseconds(), 10), strconv.FormatBool(a.Sandbox),
		a.Command, a.CommandHash, a.EnablementID, a.Origin, a.State, a.Reason, a.DecidedBy,
		ms(a.CreatedAt), zeroOr(a.DecidedAt.IsZero(), ms(a.DecidedAt)), zeroOr(a.UsedAt.IsZero(), ms(a.UsedAt)), ms(a.ExpiresAt),
	} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// ApprovalAltered is the refusal for an approval whose MAC does not verify.
func ApprovalAltered(id string) error {
	return Errorf(EUnauthorized, "approval %s was written or changed outside agent-bridge (its MAC does not verify under this bridge's key), so it is not honoured. Ask for a new one; a person should run agent-bridge audit --verify.", id)
}

// approval reads approval id and refuses it unless its MAC verifies: the
// read of every path that grants or decides something.
func (s *Service) approval(tx ApprovalTx, id string) (Approval, error) {
	a, err := tx.Approval(id)
	if err != nil {
		return a, err
	}
	if !s.sealed(a) {
		return Approval{}, ApprovalAltered(id)
	}
	return a, nil
}
