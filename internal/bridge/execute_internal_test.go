package bridge

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A command's output is cut to the message limit, whatever the limit: a
// limit under the length of the cut mark once panicked after the command
// had run.
func TestCommandMessageFitsAnyLimit(t *testing.T) {
	for _, limit := range []int{1, 10, 39, 40, 41, 100, 5000} {
		s := &Service{cfg: DefaultConfig()}
		s.cfg.MaxMessageChars = limit
		out := ExecResult{Command: "cat big.txt", Output: strings.Repeat("é", 2000)}
		got := s.commandMessage(Caller{Session: SessionA}, out)
		if n := utf8.RuneCountInString(got); n > limit {
			t.Errorf("limit %d: message of %d characters", limit, n)
		}
	}
}
