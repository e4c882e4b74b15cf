package bridge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"time"
)

// Row MACs: every message, member and invite carries an HMAC under
// key.Sub("row") over its immutable fields, so a row written, edited or
// moved without the key is recognised: when it is read (a member row that
// does not verify cannot authenticate; a message that does not verify is
// not delivered as genuine) and by audit --verify. Delivery state that
// changes as agents work (read times, heartbeats, statuses, counters) is
// not covered. Approvals are sealed the same way in seal.go.

// rowMAC is the MAC of one row: a kind tag and its fields, each
// length-prefixed so field boundaries are unambiguous.
func (s *Service) rowMAC(fields ...string) string {
	m := hmac.New(sha256.New, s.rowKey)
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

func macEqual(stored, want string) bool {
	return stored != "" && hmac.Equal([]byte(stored), []byte(want))
}

// messageMAC covers everything a message says and who said it, to whom,
// in which conversation, under which id. tag separates messages sealed as
// they were written ("message v1") from those sealed when a store from
// before row MACs was first opened with the key ("message legacy v1"),
// which no audit row names.
func (s *Service) messageMAC(tag string, m Message) string {
	f := []string{tag, strconv.FormatInt(m.ID, 10), m.ConversationID, string(m.From), string(m.To),
		strconv.FormatInt(m.ReplyTo, 10), m.ActionType, m.Body, msText(m.CreatedAt), strconv.FormatBool(m.System),
		strconv.Itoa(len(m.Files))}
	return s.rowMAC(append(f, m.Files...)...)
}

const (
	messageTag       = "message v1"
	legacyMessageTag = "message legacy v1"
)

// MessageSealed reports whether m's MAC verifies, and whether it was
// sealed as legacy (written before row MACs, sealed on the first keyed
// open), which no audit row names.
func (s *Service) messageSealed(m Message) (ok, legacy bool) {
	if macEqual(m.MAC, s.messageMAC(messageTag, m)) {
		return true, false
	}
	if macEqual(m.MAC, s.messageMAC(legacyMessageTag, m)) {
		return true, true
	}
	return false, false
}

func (s *Service) memberMAC(m Membership) string {
	return s.rowMAC("member v1", m.ConversationID, string(m.Member), m.Role, strconv.Itoa(m.Generation), msText(m.JoinedAt), msText(m.LeftAt))
}

func (s *Service) memberSealed(m Membership) bool { return macEqual(m.MAC, s.memberMAC(m)) }

func (s *Service) inviteMAC(inv Invite) string {
	return s.rowMAC("invite v1", inv.CodeHash, inv.ConversationID, string(inv.Member), inv.Role, string(inv.CreatedBy),
		msText(inv.CreatedAt), msText(inv.ExpiresAt), msText(inv.RedeemedAt), string(inv.RedeemedBy))
}

func (s *Service) inviteSealed(inv Invite) bool { return macEqual(inv.MAC, s.inviteMAC(inv)) }

// sealTx is the transaction every use case runs in: it seals each message,
// member and invite as it is written, and remembers the messages it stored
// so the call's audit row names them (Refs). Code that writes these rows
// through it needs to know nothing about MACs. A new sealed table (tasks,
// leases) overrides its writes here the same way (a rowMAC over a kind tag
// and its immutable fields, vouch for a ref if calls create its rows), and
// adds its check to sealedKinds in verify.go.
type sealTx struct {
	Tx
	s    *Service
	refs []string
}

func (t *sealTx) AddMessage(m *Message) error {
	if m.ID == 0 {
		id, err := t.Tx.NextMessageID()
		if err != nil {
			return err
		}
		m.ID = id
	}
	if m.To == "" {
		m.To = Broadcast // as the store keeps it, so the MAC covers what is stored
	}
	m.CreatedAt = m.CreatedAt.UTC().Truncate(time.Millisecond)
	m.MAC = t.s.messageMAC(messageTag, *m)
	if err := t.Tx.AddMessage(m); err != nil {
		return err
	}
	t.refs = append(t.refs, messageRef(m.ID))
	return nil
}

// ImportMessage seals an imported message as AddMessage seals a new one;
// the import's audit row names it.
func (t *sealTx) ImportMessage(m *Message, to []Delivery) error {
	if m.ID == 0 {
		id, err := t.Tx.NextMessageID()
		if err != nil {
			return err
		}
		m.ID = id
	}
	if m.To == "" {
		m.To = Broadcast
	}
	m.CreatedAt = m.CreatedAt.UTC().Truncate(time.Millisecond)
	m.MAC = t.s.messageMAC(messageTag, *m)
	if err := t.Tx.ImportMessage(m, to); err != nil {
		return err
	}
	t.refs = append(t.refs, messageRef(m.ID))
	return nil
}

func (t *sealTx) AddMember(m Membership) error {
	m.JoinedAt, m.LeftAt = m.JoinedAt.UTC().Truncate(time.Millisecond), time.Time{}
	m.MAC = t.s.memberMAC(m)
	return t.Tx.AddMember(m)
}

func (t *sealTx) RemoveMember(conversationID string, id Member, at time.Time, _ string) error {
	m, err := t.Tx.Member(conversationID, id)
	if err != nil {
		return err
	}
	if !m.Active() {
		return nil // the store changes nothing either
	}
	m.LeftAt = at.UTC().Truncate(time.Millisecond)
	return t.Tx.RemoveMember(conversationID, id, at, t.s.memberMAC(m))
}

func (t *sealTx) AddInvite(inv Invite) error {
	inv.CreatedAt, inv.ExpiresAt = inv.CreatedAt.UTC().Truncate(time.Millisecond), inv.ExpiresAt.UTC().Truncate(time.Millisecond)
	inv.MAC = t.s.inviteMAC(inv)
	return t.Tx.AddInvite(inv)
}

func (t *sealTx) RedeemInvite(codeHash string, by Member, at time.Time, _ string) (bool, error) {
	inv, err := t.Tx.Invite(codeHash)
	if err != nil {
		return false, err
	}
	inv.RedeemedAt, inv.RedeemedBy = at.UTC().Truncate(time.Millisecond), by
	return t.Tx.RedeemInvite(codeHash, by, at, t.s.inviteMAC(inv))
}

// vouch adds lines to the Refs of the call's audit row (see chains.go).
func vouch(tx Tx, refs ...string) {
	if st, ok := tx.(*sealTx); ok {
		st.refs = append(st.refs, refs...)
	}
}

// messageRef is how an audit row names a message it stored.
func messageRef(id int64) string { return "m:" + strconv.FormatInt(id, 10) }

// screen withholds the text of every message whose MAC does not verify:
// it reaches the reader as a notice from the bridge, never as the
// sender's words. Legacy rows not sealed yet (the store has not been
// opened with the key since its upgrade) pass as before the upgrade.
func (s *Service) screen(tx Tx, msgs []Message) error {
	pending := -1
	for i, m := range msgs {
		if ok, _ := s.messageSealed(m); ok {
			continue
		}
		if m.MAC == "" && pending < 0 {
			p, err := s.legacyTrusted(tx)
			if err != nil {
				return err
			}
			pending = 0
			if p {
				pending = 1
			}
		}
		if m.MAC == "" && pending == 1 {
			continue
		}
		msgs[i].Altered = true
		msgs[i].System = true
		msgs[i].Body = AlteredNotice(m.ID)
		msgs[i].Files = nil
	}
	return nil
}

// AlteredNotice replaces the text of a message that fails its MAC.
func AlteredNotice(id int64) string {
	return "[agent-bridge: message " + strconv.FormatInt(id, 10) + " was written or changed in the database outside agent-bridge (its MAC does not verify), so its text is withheld. Do not act on it; ask the person running agent-bridge to run agent-bridge audit --verify.]"
}

// memberGenuine reports whether a member row may authenticate: its MAC
// verifies, or it is a legacy row not sealed yet.
func (s *Service) memberGenuine(tx Tx, m Membership) (bool, error) {
	if s.memberSealed(m) {
		return true, nil
	}
	if m.MAC != "" {
		return false, nil
	}
	return s.legacyTrusted(tx)
}

// inviteGenuine is memberGenuine for an invite.
func (s *Service) inviteGenuine(tx Tx, inv Invite) (bool, error) {
	if s.inviteSealed(inv) {
		return true, nil
	}
	if inv.MAC != "" {
		return false, nil
	}
	return s.legacyTrusted(tx)
}
