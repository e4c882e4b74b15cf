package redact

import (
	"math"
	"regexp"
	"strings"
)

// identRe is a name in code, possibly dotted.
var identRe = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_.$:>-]*$`)

// envRef is a Windows environment variable reference, %NAME%.
var envRef = regexp.MustCompile(`^%[A-Za-z_][A-Za-z0-9_]*%`)

// Judging values: a rule finds a candidate by its key and shape; these
// decide whether the candidate is a credential or something that stands in
// a credential's place (a placeholder, a reference, a path, a word).

// placeholderWords mark a value written to stand for a secret.
var placeholderWords = []string{
	"process.env", "os.environ", "getenv", "your_", "your-", "yourpass", "yourtoken", "yoursecret", "yourkey",
	"example", "placeholder", "redacted", "changeme", "change_me", "change-me", "replace_me", "replace-me",
	"replaceme", "insert", "dummy", "sample", "xxxx", "****", "••", "...", "todo", "fixme", "notreal",
	"not-a-real", "not_a_real", "fake",
}

// isPlaceholder reports values that stand for a secret rather than being
// one: references to variables, template slots, masks, filler, sequences
// and our own placeholders.
func isPlaceholder(v string) bool {
	t := strings.Trim(v, `"'`)
	switch {
	case t == "":
		return true
	case strings.HasPrefix(t, "[REDACTED"), strings.HasPrefix(t, "$"), envRef.MatchString(t),
		strings.HasPrefix(t, "{{"), strings.HasPrefix(t, "<"), strings.HasPrefix(t, "${"), strings.HasPrefix(t, "!"):
		return true
	case strings.Trim(t, "*xX.-_•") == "":
		return true
	}
	for _, w := range placeholderWords {
		if containsFold(t, w) {
			return true
		}
	}
	return isFiller(t)
}

// containsFold reports whether s contains w, ignoring ASCII case; w is
// lower case. (strings.ToLower would allocate for every candidate.)
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		j := 0
		for j < len(w) && fold(s[i+j]) == w[j] {
			j++
		}
		if j == len(w) {
			return true
		}
	}
	return false
}

// isFiller reports values made mostly of one repeated character
// (ghp_xxxx..., 0x0000..., aaaa...) or holding a run of counting
// characters (123456, abcdef), which generated secrets do not.
func isFiller(v string) bool {
	if len(v) < 6 {
		return false
	}
	var freq [256]int
	top := 0
	run := 1
	for i := 0; i < len(v); i++ {
		c := v[i]
		freq[c]++
		top = max(top, freq[c])
		if i > 0 && (c == v[i-1]+1 && isAlnum(c) && isAlnum(v[i-1])) {
			if run++; run >= 6 {
				return true
			}
		} else {
			run = 1
		}
	}
	return 2*top >= len(v)
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isPath reports values that name a file or directory: the value of
// PWD=/home/..., GOOGLE_APPLICATION_CREDENTIALS=/path/to/key.json.
func isPath(v string) bool {
	v = strings.Trim(v, `"'`)
	if strings.ContainsAny(v, "+") || strings.HasSuffix(v, "=") {
		return false // base64, which may start with a slash
	}
	switch {
	case strings.HasPrefix(v, "/"), strings.HasPrefix(v, "~/"), strings.HasPrefix(v, "./"), strings.HasPrefix(v, "../"),
		strings.HasPrefix(v, `\\`), strings.HasPrefix(v, `~\`):
		return true
	case len(v) > 2 && v[1] == ':' && (v[2] == '\\' || v[2] == '/'):
		return true
	}
	if i := strings.LastIndexAny(v, `/\`); i > 0 {
		base := v[i+1:]
		if dot := strings.LastIndexByte(base, '.'); dot > 0 {
			switch strings.ToLower(base[dot+1:]) {
			case "json", "pem", "key", "txt", "yaml", "yml", "enc", "p12", "pfx", "env", "cfg", "conf", "ini", "crt", "jks", "gpg", "asc":
				return true
			}
		}
	}
	return false
}

// isName reports values built of short word-like parts joined by
// separators, at least one of them a slash, colon or dot, the way names of
// resources, hosts and paths are (projects/acme/secrets/db,
// api-gateway.prod.internal): generated secrets have long random runs.
func isName(v string) bool {
	if !strings.ContainsAny(v, "/:.") || strings.ContainsAny(v, "+=!#%&*?@^~$") {
		return false
	}
	parts, wordy := 0, 0
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune("/:._-", r) }) {
		parts++
		if isWord(p) || len(p) <= 3 && strings.Trim(p, "0123456789") == "" {
			wordy++
		}
	}
	return parts >= 3 && 3*wordy >= 2*parts
}

// isWord reports a run of letters written as a word: lower case, upper
// case or capitalised.
func isWord(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'a' <= c && c <= 'z':
		case 'A' <= c && c <= 'Z':
			if i > 0 && 'a' <= p[i-1] && p[i-1] <= 'z' {
				return false
			}
		default:
			return false
		}
	}
	return p != ""
}

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var freq [256]int
	for i := 0; i < len(s); i++ {
		freq[s[i]]++
	}
	h := 0.0
	n := float64(len(s))
	for _, c := range freq {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// charClasses reports which kinds of byte v holds; identifier and path
// punctuation (_ . -) count as none.
func charClasses(v string) (lower, upper, digit, other bool) {
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		case c == '_' || c == '.' || c == '-':
		default:
			other = true
		}
	}
	return
}

// looksSecret accepts values that look generated or chosen as a credential
// rather than a word, a number, an identifier or a placeholder: long
// enough, mixing letters with digits or symbols, not a call, not a path.
func looksSecret(min int) func(string) bool {
	return func(v string) bool {
		v = strings.Trim(v, `"'`)
		if len(v) < min || strings.Contains(v, " ") || isPlaceholder(v) || isPath(v) || isName(v) || isIdentifier(v) {
			return false
		}
		lower, upper, digit, other := charClasses(v)
		if !digit && !other {
			return randomLetters(v) // else a word, an identifier or a dotted name
		}
		classes := 0
		for _, b := range []bool{lower, upper, digit, other} {
			if b {
				classes++
			}
		}
		return classes >= 2 && entropy(v) >= 2.5
	}
}

// randomLetters accepts letters-only values that read as generated: ten
// or more letters, at least three of each case, that do not split into
// words (ZSaZeSGgUqZQx, not PostgreSQL or JavaScript).
func randomLetters(v string) bool {
	if len(v) < 10 || isIdentifier(v) {
		return false
	}
	var lower, upper int
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case 'a' <= c && c <= 'z':
			lower++
		case 'A' <= c && c <= 'Z':
			upper++
		default:
			return false
		}
	}
	return lower >= 3 && upper >= 3
}

// notPasswords are values a password key holds in code and config that
// are not passwords: types, literals, switches and policy words.
var notPasswords = map[string]bool{
	"true": true, "false": true, "null": true, "nil": true, "none": true, "undefined": true, "string": true,
	"str": true, "required": true, "optional": true, "hidden": true, "empty": true, "yes": true, "no": true,
	"password": true, "passwd": true, "secret": true, "token": true, "pass": true, "pwd": true, "prompt": true,
	"strict": true, "disabled": true, "enabled": true, "default": true, "masked": true, "sensitive": true,
	"stdin": true, "off": true, "on": true, "bearer": true, "basic": true, "oauth": true, "oauth2": true,
	"readonly": true, "invalid": true, "incorrect": true, "expired": true, "missing": true, "wrong": true,
	"changed": true, "reset": true, "unknown": true, "text": true, "boolean": true, "bool": true, "object": true,
	"number": true, "integer": true, "int": true, "bytes": true, "secretstr": true, "char": true, "varchar": true,
	"postgres": true, "root": true, "admin": true, "guest": true, "user": true, "username": true, "test": true,
}

// looksPassword accepts what follows a password key with an explicit
// separator: a chosen password may be all letters, so besides looksSecret's
// values it takes words of 8 or more letters, unless the value is a type,
// a literal, an environment variable's name or a policy word.
func looksPassword(v string) bool {
	v = strings.Trim(v, `"'`)
	if looksSecret(6)(v) {
		return true
	}
	if len(v) < 6 || strings.Contains(v, " ") || isPlaceholder(v) || isPath(v) || notPasswords[strings.ToLower(v)] || isIdentifier(v) {
		return false
	}
	lower, upper, digit, other := charClasses(v)
	switch {
	case upper && !lower: // an environment variable's or a constant's name
		return false
	case strings.Contains(v, ".") && !digit && !other: // a dotted reference
		return false
	case digit && !lower && !upper && !other:
		return len(v) >= 6 && !isFiller(v)
	}
	return len(v) >= 8 && entropy(v) >= 2.5
}

// isIdentifier reports values made only of words: letter runs joined by
// separators or camelCase humps, each part a capitalised or lower-case word
// or an acronym (TestLogin, ConvertTo-SecureString, tls-secret), so names
// of tests, cmdlets, types and resources, not chosen passwords. Random
// letters (LiwAyypXAQoXil) break into parts that are not words.
func isIdentifier(v string) bool {
	parts := 0
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune("-_./", r) }) {
		start := 0
		for i := 1; i <= len(p); i++ {
			if i == len(p) || ('A' <= p[i] && p[i] <= 'Z' && 'a' <= p[i-1] && p[i-1] <= 'z') {
				if !wordPart.MatchString(p[start:i]) {
					return false
				}
				parts++
				start = i
			}
		}
	}
	return parts >= 2
}

var wordPart = regexp.MustCompile(`^(?:[A-Z]?[a-z]{2,}|[A-Z]{2,}[a-z]*|[a-z])$`)

// generated accepts values of at least min bytes that look machine-made
// by mixing upper case, lower case and digits, and that are not digests
// or public keys (sha256:..., AAAA... SSH blobs).
func generated(min int) func(string) bool {
	r := random(min)
	return func(v string) bool {
		lower, upper, digit, _ := charClasses(v)
		return lower && upper && digit && r(v) && !strings.HasPrefix(v, "AAAA") && !strings.HasPrefix(v, "pk_")
	}
}

// hexKey accepts hex keys that are not filler.
func hexKey(v string) bool { return !isFiller(v) && !isPlaceholder(v) }

// mixedCase accepts generated-looking strings of at least min bytes that
// mix upper case, lower case and digits (hashes and ids are single-case).
func mixedCase(min int) func(string) bool {
	return func(v string) bool {
		if len(v) < min || isPlaceholder(v) {
			return false
		}
		var lower, upper, digit bool
		for i := 0; i < len(v); i++ {
			c := v[i]
			lower = lower || 'a' <= c && c <= 'z'
			upper = upper || 'A' <= c && c <= 'Z'
			digit = digit || '0' <= c && c <= '9'
		}
		return lower && upper && digit && entropy(v) >= 3.5
	}
}

// random accepts values of at least min bytes that look generated: hex of
// at least 32 digits, or mixed letters and digits with high entropy.
func random(min int) func(string) bool {
	return func(v string) bool {
		v = strings.Trim(v, `"'`)
		if len(v) < min || isPlaceholder(v) || isPath(v) || isName(v) {
			return false
		}
		lower, upper, digit, _ := charClasses(v)
		if !digit || !(lower || upper) {
			return false
		}
		return entropy(v) >= 3.2
	}
}

// keyedValue judges the value of a key = value match: the key must start a
// word or a camelCase part (compass and bypass hold no password), must not
// sit inside an ARN or a resource path, and the value must not be called or
// indexed (a reference). After a prose separator (is, was, a space) the
// value must look generated; after = or : it must pass valid.
func keyedValue(valid func(string) bool) func(ru *rule, s string, m []int, start, end int) bool {
	strict := looksSecret(6)
	return func(ru *rule, s string, m []int, start, end int) bool {
		ks, _ := ru.named("key", m)
		if ks > 0 && isExpansion(s, ks) {
			return false // ${SECRET_KEY:-...}: a shell expansion, not an assignment
		}
		if ks > 0 {
			before, first := s[ks-1], s[ks]
			if ('a' <= before && before <= 'z' || '0' <= before && before <= '9') && !('A' <= first && first <= 'Z') {
				return false
			}
			w := ks
			for w > 0 && strings.IndexByte(" \t\r\n\"'`=,({[", s[w-1]) < 0 {
				w--
			}
			if strings.HasPrefix(strings.ToLower(s[w:ks]), "arn:") {
				return false
			}
		}
		v := s[start:end]
		if end < len(s) && (s[end] == '(' || s[end] == '[') && identRe.MatchString(v) {
			return false // a call or an index: a reference
		}
		ss, se := ru.named("sep", m)
		if ss < 0 || strings.TrimSpace(s[ss:se]) == "is" || strings.TrimSpace(s[ss:se]) == "was" {
			// Prose: judge the word without the sentence's punctuation.
			return strict(strings.TrimRight(v, ".,;:!?"))
		}
		return valid(v)
	}
}

// urlPassword accepts the password of a URL's user information unless it
// is a port, a placeholder or a stock word (user:password@, USER:PASS@).
func urlPassword(v string) bool {
	if isPlaceholder(v) || notPasswords[strings.ToLower(v)] {
		return false
	}
	lower, upper, digit, other := charClasses(v)
	switch {
	case digit && !lower && !upper && !other && len(v) <= 5: // a port
		return false
	case upper && !lower && !digit && !other: // PASSWORD, PASS
		return false
	}
	return true
}

// notDigest rejects a 64-digit hex value that a tool prints as a digest.
func notDigest(v string) bool {
	return !isFiller(strings.TrimPrefix(v, "0x"))
}

// isSeedPhrase accepts a run of short lower-case words that reads as a
// BIP-39 phrase (12 to 24 words) rather than a sentence: it holds none of
// the small words every English sentence has.
func isSeedPhrase(v string) bool {
	words := strings.Fields(v)
	if n := len(words); n != 12 && n != 15 && n != 18 && n != 21 && n != 24 {
		return false
	}
	for _, w := range words {
		switch w {
		case "the", "is", "of", "to", "and", "in", "it", "that", "with", "this", "was", "from", "are", "for", "on", "be", "we", "you", "our", "not", "by", "at", "as", "or", "an", "has", "have":
			return false
		}
	}
	return true
}

// keyPrefixes are the words that make "key" a credential's name: api_key,
// SecretKey, DD_APP_KEY; cache_key and primary_key are not.
var keyPrefixes = []string{
	"api", "access", "secret", "private", "app", "client", "license", "licence", "master", "signing", "encryption",
	"account", "server", "subscription", "auth", "admin", "service", "write", "consumer", "ingest", "sdk", "live",
	"prod", "integration", "management", "webhook", "shared", "root", "hmac", "crypt", "cipher", "aes", "jwt",
}

// keyPrefixed wraps a key = value judge for a match whose key group holds
// only "key": the identifier part right before it (after an optional _ - .
// or space) must be one of keyPrefixes, and the key group is treated as
// starting there.
func keyPrefixed(judge func(ru *rule, s string, m []int, start, end int) bool) func(ru *rule, s string, m []int, start, end int) bool {
	return func(ru *rule, s string, m []int, start, end int) bool {
		ks, _ := ru.named("key", m)
		if ks < 0 {
			return false
		}
		p := ks
		if p > 0 && strings.IndexByte("_-. ", s[p-1]) >= 0 {
			p--
		}
		w := p
		for w > 0 && isAlnum(s[w-1]) {
			w--
		}
		word := strings.ToLower(s[w:p])
		ok := false
		for _, k := range keyPrefixes {
			if strings.HasSuffix(word, k) && (len(word) == len(k) || camelStart(s, p-len(k)) || strings.IndexByte("_-.", s[p-len(k)-1]) >= 0) {
				ok, w = true, p-len(k)
				break
			}
		}
		if !ok {
			// Any other NAME_KEY (MAILGUN_KEY, STRIPE_KEY) holds a key
			// only when its value is unmistakably generated.
			if word == "" || !stronglyRandom(strings.Trim(s[start:end], `"'`)) {
				return false
			}
		}
		// Hand the judge a key group that starts at the prefix.
		mm := append([]int(nil), m...)
		for i, n := range ru.re.SubexpNames() {
			if n == "key" && mm[2*i] == ks {
				mm[2*i] = w
			}
		}
		return judge(ru, s, mm, start, end)
	}
}

// camelStart reports whether s[i] starts a camelCase part.
func camelStart(s string, i int) bool {
	return i > 0 && 'A' <= s[i] && s[i] <= 'Z' && 'a' <= s[i-1] && s[i-1] <= 'z'
}

// within returns the judge of a near match: the keyword and the value are
// at most span bytes apart, with no vetoing word between them.
func within(span int) func(ru *rule, s string, m []int, start, end int) bool {
	return func(ru *rule, s string, m []int, start, end int) bool {
		gap := start - m[0] // keyword, then value
		if gap <= 1 {
			gap = m[1] - end // value, then keyword
		}
		if gap > span+24 { // the span plus the longest keyword
			return false
		}
		return notWordsBetween(ru, s, m, start, end)
	}
}

// notWordsBetween rejects a near match when the words between its keyword
// and its value say the value is an identifier or a digest (zone id, commit
// hash, key fingerprint) rather than the secret.
func notWordsBetween(ru *rule, s string, m []int, start, end int) bool {
	return !hasVetoWord(s[m[0]:start]) && !hasVetoWord(s[end:m[1]])
}

// vetoWords, in hasVetoWord, mark a value as an identifier or a digest.
var vetoWords = map[string]bool{
	"id": true, "ids": true, "hash": true, "sha": true, "sha1": true, "sha256": true, "sha512": true, "md5": true,
	"digest": true, "fingerprint": true, "checksum": true, "commit": true, "address": true, "zone": true, "public": true,
	"publishable": true, "trace": true, "request": true, "build": true, "version": true, "etag": true, "nonce": true,
}

// hasVetoWord reports whether t holds one of vetoWords as a whole word,
// ignoring case, without allocating.
func hasVetoWord(t string) bool {
	var buf [16]byte
	for i := 0; i < len(t); {
		for i < len(t) && !isAlnum(t[i]) {
			i++
		}
		j := i
		for j < len(t) && isAlnum(t[j]) {
			j++
		}
		if n := j - i; n > 0 && n <= len(buf) {
			for k := 0; k < n; k++ {
				buf[k] = fold(t[i+k])
			}
			if vetoWords[string(buf[:n])] {
				return true
			}
		}
		i = j
	}
	return false
}

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// stronglyRandom accepts values no one types by hand: hex of 32 digits or
// more (not a UUID, which names things) or a mixed-case string of letters
// and digits of 24 bytes or more.
func stronglyRandom(v string) bool {
	if uuidRe.MatchString(v) || isPlaceholder(v) {
		return false
	}
	if h := strings.ReplaceAll(v, "-", ""); len(h) >= 32 && strings.Trim(strings.ToLower(h), "0123456789abcdef") == "" {
		return true
	}
	return generated(24)(v)
}

// isExpansion reports whether the identifier holding s[i] is a variable
// expansion ($NAME, ${NAME...}, %NAME%).
func isExpansion(s string, i int) bool {
	for i > 0 && (isAlnum(s[i-1]) || s[i-1] == '_') {
		i--
	}
	return i > 0 && (s[i-1] == '$' || s[i-1] == '%' || s[i-1] == '{' && i > 1 && s[i-2] == '$')
}
