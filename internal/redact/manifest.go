package redact

import (
	"regexp"
	"strings"
)

// Kubernetes Secret manifests hold their secrets under data (base64) or
// stringData (plain) with any key names, so neither a key nor a shape
// finds them: findSecretData reads the structure. A document counts as a
// Secret when it says kind: Secret (YAML) or "kind": "Secret" (JSON).

var (
	yamlSecretKind = regexp.MustCompile(`(?m)^\s*kind:\s*["']?Secret["']?\s*$`)
	yamlDataKey    = regexp.MustCompile(`(?m)^([ \t]*)(?:data|stringData):[ \t]*$`)
	yamlEntry      = regexp.MustCompile(`^([ \t]+)["']?[A-Za-z0-9_.-]+["']?:[ \t]*(.*?)[ \t\r]*$`)
	jsonSecretKind = regexp.MustCompile(`"kind"\s*:\s*"Secret"`)
	jsonData       = regexp.MustCompile(`"(?:data|stringData)"\s*:\s*\{([^{}]*)\}`)
	jsonEntry      = regexp.MustCompile(`"[A-Za-z0-9_.-]+"\s*:\s*"([^"\\]+)"`)
)

func findSecretData(s string) [][2]int {
	var out [][2]int
	// YAML, one document at a time.
	for off := 0; off < len(s); {
		docEnd := len(s)
		if i := strings.Index(s[off:], "\n---"); i >= 0 {
			docEnd = off + i + 1
		}
		if doc := s[off:docEnd]; yamlSecretKind.MatchString(doc) {
			scanned := 0 // a data: inside a block already read is part of it
			for _, m := range yamlDataKey.FindAllStringSubmatchIndex(doc, -1) {
				if m[0] < scanned {
					continue
				}
				var vs [][2]int
				vs, scanned = yamlBlock(doc, off, m[1], m[3]-m[2])
				out = append(out, vs...)
			}
		}
		off = docEnd + 3
	}
	// JSON.
	if jsonSecretKind.MatchString(s) {
		for _, m := range jsonData.FindAllStringSubmatchIndex(s, -1) {
			for _, e := range jsonEntry.FindAllStringSubmatchIndex(s[m[2]:m[3]], -1) {
				out = append(out, [2]int{m[2] + e[2], m[2] + e[3]})
			}
		}
	}
	return out
}

// yamlBlock returns the values of the mapping that starts on the line after
// from and is indented deeper than indent (base is doc's offset in s), and
// where in doc the mapping ends. A block scalar (key: | or key: >) counts
// as one value, its lines.
func yamlBlock(doc string, base, from, indent int) ([][2]int, int) {
	var out [][2]int
	block := -1 // indentation of the entry whose block scalar we are in
	for at := from + 1; at < len(doc); {
		end := strings.IndexByte(doc[at:], '\n')
		if end < 0 {
			end = len(doc)
		} else {
			end += at
		}
		line := doc[at:end]
		depth := len(line) - len(strings.TrimLeft(line, " \t"))
		blank := strings.TrimSpace(line) == ""
		switch {
		case blank:
		case depth <= indent:
			return out, at
		case block >= 0 && depth > block:
			t := strings.TrimSpace(line)
			i := strings.Index(line, t)
			out = append(out, [2]int{base + at + i, base + at + i + len(t)})
		default:
			block = -1
			if m := yamlEntry.FindStringSubmatchIndex(line); m != nil {
				v := line[m[4]:m[5]]
				switch {
				case v == "|" || v == ">" || strings.HasPrefix(v, "|-") || strings.HasPrefix(v, ">-"):
					block = len(line[m[2]:m[3]])
				case v != "" && !strings.HasPrefix(v, "#"):
					v = strings.Trim(v, `"'`)
					i := strings.Index(line[m[4]:], v)
					out = append(out, [2]int{base + at + m[4] + i, base + at + m[4] + i + len(v)})
				}
			}
		}
		at = end + 1
	}
	return out, len(doc)
}

// findTwilioSIDs returns SK or AC followed by 32 lower-case hex digits,
// standing alone.
func findTwilioSIDs(s string) [][2]int {
	var out [][2]int
	for _, prefix := range []string{"SK", "AC"} {
		for off := 0; ; {
			i := strings.Index(s[off:], prefix)
			if i < 0 {
				break
			}
			start := off + i
			off = start + 2
			end := start + 34
			if end > len(s) || (start > 0 && isAlnum(s[start-1])) || (end < len(s) && isAlnum(s[end])) {
				continue
			}
			if strings.Trim(s[start+2:end], "0123456789abcdef") == "" {
				out = append(out, [2]int{start, end})
			}
		}
	}
	return out
}
