package yolo

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// homoglyphs are letters that NFKC leaves alone but that look like ASCII
// letters: Cyrillic, Greek and a few Latin extensions. A human approving
// "rm -rf /hоme" should not have to spot that the о is Cyrillic.
var homoglyphs = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'B', 'е': 'e', 'к': 'k', 'м': 'M', 'н': 'H', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 'T', 'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ј': 'j', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w',
	'һ': 'h', 'ӏ': 'l', 'ɡ': 'g', 'А': 'A', 'В': 'B', 'Е': 'E', 'К': 'K', 'М': 'M', 'Н': 'H',
	'О': 'O', 'Р': 'P', 'С': 'C', 'Т': 'T', 'У': 'Y', 'Х': 'X', 'Ѕ': 'S', 'І': 'I', 'Ј': 'J',
	'Ԁ': 'D', 'Ԛ': 'Q', 'Ԝ': 'W', 'Һ': 'H', 'Ӏ': 'I',
	// Greek
	'α': 'a', 'ο': 'o', 'ν': 'v', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'ι': 'i', 'κ': 'k', 'χ': 'x',
	'ϲ': 'c', 'ϳ': 'j', 'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K',
	'Μ': 'M', 'Ν': 'N', 'Ο': 'O', 'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X', 'Ϲ': 'C',
	// Latin look-alikes
	'ı': 'i', 'ȷ': 'j', 'ǀ': 'l', 'ꞁ': 'l', 'ʟ': 'L', 'ɪ': 'I', 'ʀ': 'R', 'ꜱ': 's',
	// Armenian, Cherokee and others commonly used in spoofing
	'օ': 'o', 'ս': 'u', 'ց': 'g', 'Ꭺ': 'A', 'Ꮯ': 'C', 'Ꭼ': 'E', 'Ꮋ': 'H', 'Ꭰ': 'D',
	// punctuation that looks like shell syntax
	'∕': '/', '⁄': '/', '﹣': '-', '‐': '-', '‑': '-', '‒': '-', '–': '-', '—': '-', '−': '-',
	'ǃ': '!', '；': ';', '｜': '|',
}

// lookalike returns a refusal for the first character of text that looks
// like ASCII without being ASCII (fullwidth forms, mathematical letters,
// ligatures and other characters whose NFKC form is ASCII; Cyrillic, Greek
// and other homoglyphs), or that is invisible (format characters such as
// zero-width spaces and bidirectional overrides, non-ASCII spaces). Other
// non-ASCII text, such as "é" or "日本", is fine.
func lookalike(text string) *Refusal {
	for i, r := range text {
		if r < utf8.RuneSelf {
			continue
		}
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(text[i:]); n == 1 {
				return refuse("unicode", "the command is not valid UTF-8 at byte %d; send plain text", i)
			}
		}
		if a, ok := homoglyphs[r]; ok {
			return refuse("unicode", "character %U %q at byte %d looks like ASCII %q; commands must use the real ASCII character", r, r, i, a)
		}
		if unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) || unicode.Is(unicode.Zs, r) || unicode.IsControl(r) {
			return refuse("unicode", "invisible or space character %U at byte %d; commands may not contain it", r, i)
		}
		if f := norm.NFKC.String(string(r)); isASCII(f) {
			return refuse("unicode", "character %U %q at byte %d folds to ASCII %q; commands must use the real ASCII characters", r, r, i, f)
		}
	}
	return nil
}

func isASCII(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// controlChar refuses ASCII control characters other than tab and newline:
// they hide text from the human who approves the command.
func controlChar(text string) *Refusal {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f {
			return refuse("unicode", "control character %s at byte %d; commands may not contain control characters", fmt.Sprintf("%U", rune(c)), i)
		}
	}
	return nil
}
