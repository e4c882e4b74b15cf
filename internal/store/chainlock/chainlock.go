// Package chainlock keeps the order in which a write transaction takes
// its chain locks (see bridge.Tx.Lock): the global chain "" first, then
// conversations in ascending order. Two transactions that take locks in
// one order cannot deadlock on them; asking for a chain that sorts before
// one already held is refused instead.
package chainlock

import (
	"fmt"
	"slices"
)

// Order is the set of chain locks one transaction holds. The zero value
// holds none.
type Order struct {
	held map[string]bool
	max  string
	any  bool
}

// Holds reports whether chain's lock is held.
func (o *Order) Holds(chain string) bool { return o.held[chain] }

// Take returns the chains not held yet, in the order to lock them, and
// records them as held; it refuses (and records nothing) when one of them
// sorts before a chain already held.
func (o *Order) Take(chains []string) ([]string, error) {
	var todo []string
	for _, c := range chains {
		if !o.held[c] && !slices.Contains(todo, c) {
			todo = append(todo, c)
		}
	}
	slices.Sort(todo)
	if len(todo) > 0 && o.any && todo[0] < o.max {
		return nil, fmt.Errorf("lock chain %q after %q: chain locks must be taken in ascending order, the global chain first", todo[0], o.max)
	}
	if o.held == nil {
		o.held = map[string]bool{}
	}
	for _, c := range todo {
		o.held[c] = true
		o.max, o.any = c, true
	}
	return todo, nil
}
