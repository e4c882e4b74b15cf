package redact

import "strings"

// Markdown tables: a column headed password, secret, token or api key
// holds a credential in each row, whatever its shape; findTableCells reads
// the table, since the header and the value are on different lines.

var credentialHeaders = map[string]bool{
	"password": true, "passwd": true, "pass": true, "pwd": true, "passphrase": true, "secret": true,
	"token": true, "api key": true, "api_key": true, "apikey": true, "access key": true, "secret key": true,
	"client secret": true, "credential": true, "credentials": true,
}

func findTableCells(s string) [][2]int {
	if !strings.Contains(s, "|") {
		return nil
	}
	var out [][2]int
	col := -1 // the credential column of the table we are in
	for at := 0; at < len(s); {
		end := strings.IndexByte(s[at:], '\n')
		if end < 0 {
			end = len(s)
		} else {
			end += at
		}
		line := strings.TrimRight(s[at:end], "\r")
		t := strings.TrimSpace(line)
		switch {
		case !strings.HasPrefix(t, "|"):
			col = -1
		case strings.Trim(t, "|-: ") == "": // the separator row
		case col < 0:
			for i, c := range tableCells(line) {
				if credentialHeaders[strings.ToLower(strings.Trim(strings.TrimSpace(line[c[0]:c[1]]), "*_`"))] {
					col = i
					break
				}
			}
		default:
			if cells := tableCells(line); col < len(cells) {
				c := cells[col]
				v := strings.TrimSpace(line[c[0]:c[1]])
				v = strings.Trim(v, "`")
				if v != "" && looksPassword(v) {
					i := strings.Index(line[c[0]:c[1]], v)
					out = append(out, [2]int{at + c[0] + i, at + c[0] + i + len(v)})
				}
			}
		}
		at = end + 1
	}
	return out
}

// tableCells returns the byte ranges of a table row's cells.
func tableCells(line string) [][2]int {
	var cells [][2]int
	first := strings.IndexByte(line, '|')
	for i := first + 1; i < len(line); {
		j := strings.IndexByte(line[i:], '|')
		if j < 0 {
			break
		}
		cells = append(cells, [2]int{i, i + j})
		i += j + 1
	}
	return cells
}
