package bridge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Tasks and leases are sealed like approvals (seal.go): a MAC under the
// row key over every stored field, recomputed by the service on every
// write and checked on every read that acts on the row. A task or lease
// written or changed without the key is reported by audit --verify and
// never acted on: a forged task cannot be claimed or finished, and a
// forged lease blocks nobody.

func rowMAC(key []byte, fields ...string) string {
	m := hmac.New(sha256.New, key)
	for _, f := range fields {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	return hex.EncodeToString(m.Sum(nil))
}

func msText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func (s *Service) taskMAC(t Task) string {
	return rowMAC(s.rowKey, "task v1", t.ConversationID, strconv.FormatInt(t.ID, 10), t.Title, t.Description,
		strings.Join(t.Files, "\x00"), string(t.CreatedBy), string(t.Assignee), t.State, t.Note,
		msText(t.CreatedAt), msText(t.UpdatedAt), msText(t.ReassignedFor))
}

func (s *Service) sealTask(t Task) Task {
	t.MAC = s.taskMAC(t)
	return t
}

func (s *Service) taskSealed(t Task) bool {
	return t.MAC != "" && hmac.Equal([]byte(t.MAC), []byte(s.taskMAC(t)))
}

func (s *Service) leaseMAC(l Lease) string {
	return rowMAC(s.rowKey, "lease v1", l.ConversationID, strconv.FormatInt(l.ID, 10), string(l.Member), l.Pattern,
		strconv.FormatBool(l.Exclusive), strconv.FormatInt(l.TaskID, 10), msText(l.CreatedAt), msText(l.ExpiresAt))
}

func (s *Service) sealLease(l Lease) Lease {
	l.MAC = s.leaseMAC(l)
	return l
}

func (s *Service) leaseSealed(l Lease) bool {
	return l.MAC != "" && hmac.Equal([]byte(l.MAC), []byte(s.leaseMAC(l)))
}

// TaskAltered is the refusal for a task whose MAC does not verify.
func TaskAltered(conv string, id int64) error {
	return Errorf(EUnauthorized, "task %d of %s was written or changed outside agent-bridge (its MAC does not verify under this bridge's key), so it cannot be acted on. Create a new task; a person should run agent-bridge audit --verify.", id, conv)
}
