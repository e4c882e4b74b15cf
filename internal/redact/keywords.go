package redact

// keywordIndex finds every occurrence of a set of keywords in one pass over
// the text (an Aho-Corasick automaton over ASCII-folded bytes), so the cost
// of the prefilter does not grow with the number of rules.
type keywordIndex struct {
	words   []string
	class   [256]uint8 // byte (folded) -> alphabet class; 0 = in no keyword
	classes int
	delta   []int32 // state*classes + class -> next state
	out     [][]int // state -> keywords ending here
}

func fold(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func newKeywordIndex(words []string) *keywordIndex {
	k := &keywordIndex{words: words}
	next := uint8(1)
	for _, w := range words {
		for i := 0; i < len(w); i++ {
			if c := fold(w[i]); k.class[c] == 0 {
				k.class[c] = next
				next++
			}
		}
	}
	for b := 0; b < 256; b++ { // upper-case bytes share their letter's class
		k.class[b] = k.class[fold(byte(b))]
	}
	C := int(next)
	k.classes = C
	// The trie.
	trie := [][]int32{make([]int32, C)}
	k.out = [][]int{nil}
	for wi, w := range words {
		s := 0
		for i := 0; i < len(w); i++ {
			c := k.class[fold(w[i])]
			if trie[s][c] == 0 {
				trie = append(trie, make([]int32, C))
				k.out = append(k.out, nil)
				trie[s][c] = int32(len(trie) - 1)
			}
			s = int(trie[s][c])
		}
		k.out[s] = append(k.out[s], wi)
	}
	// Failure links, breadth first, folded into a full transition table.
	fail := make([]int32, len(trie))
	k.delta = make([]int32, len(trie)*C)
	queue := []int32{}
	for c := 1; c < C; c++ {
		if t := trie[0][c]; t != 0 {
			k.delta[c] = t
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		k.out[s] = append(k.out[s], k.out[fail[s]]...)
		for c := 1; c < C; c++ {
			if t := trie[s][c]; t != 0 {
				fail[t] = k.delta[int(fail[s])*C+c]
				k.delta[int(s)*C+c] = t
				queue = append(queue, t)
			} else {
				k.delta[int(s)*C+c] = k.delta[int(fail[s])*C+c]
			}
		}
	}
	return k
}

// find returns, for each keyword, the offsets where it starts in s (nil
// when none occurs).
func (k *keywordIndex) find(s string) map[string][]int {
	var hits map[string][]int
	C := int32(k.classes)
	var state int32
	for i := 0; i < len(s); i++ {
		state = k.delta[state*C+int32(k.class[s[i]])]
		for _, wi := range k.out[state] {
			w := k.words[wi]
			if hits == nil {
				hits = map[string][]int{}
			}
			hits[w] = append(hits[w], i-len(w)+1)
		}
	}
	return hits
}
