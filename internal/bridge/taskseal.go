package bridge

import (
	"strconv"
	"strings"
)

// Tasks and leases are sealed like messages (rowseal.go): a MAC under the
// row key over every stored field, recomputed by the service on every
// write and checked on every read that acts on the row. A task or lease
// written or changed without the key is reported by audit --verify and
// never acted on: a forged task cannot be claimed or finished, and a
// forged lease blocks nobody.

func (s *Service) taskMAC(t Task) string {
	return s.rowMAC("task v1", t.ConversationID, strconv.FormatInt(t.ID, 10), t.Title, t.Description,
		strings.Join(t.Files, "\x00"), string(t.CreatedBy), string(t.Assignee), t.State, t.Note,
		msText(t.CreatedAt), msText(t.UpdatedAt), msText(t.ReassignedFor))
}

func (s *Service) sealTask(t Task) Task {
	t.MAC = s.taskMAC(t)
	return t
}

func (s *Service) taskSealed(t Task) bool {
	return macEqual(t.MAC, s.taskMAC(t))
}

func (s *Service) leaseMAC(l Lease) string {
	return s.rowMAC("lease v1", l.ConversationID, strconv.FormatInt(l.ID, 10), string(l.Member), l.Pattern,
		strconv.FormatBool(l.Exclusive), strconv.FormatInt(l.TaskID, 10), msText(l.CreatedAt), msText(l.ExpiresAt))
}

func (s *Service) sealLease(l Lease) Lease {
	l.MAC = s.leaseMAC(l)
	return l
}

func (s *Service) leaseSealed(l Lease) bool {
	return macEqual(l.MAC, s.leaseMAC(l))
}

// TaskAltered is the refusal for a task whose MAC does not verify.
func TaskAltered(conv string, id int64) error {
	return Errorf(EUnauthorized, "task %d of %s was written or changed outside agent-bridge (its MAC does not verify under this bridge's key), so it cannot be acted on. Create a new task; a person should run agent-bridge audit --verify.", id, conv)
}
