package redact

// builtin returns the built-in rules, most specific first: when two rules
// find the same secret, the earlier one names it.
func builtin() []rule {
	const (
		// An assignment: key, optional closing quote, separator, optional
		// opening quote. Used after a key-name pattern.
		assign = `["']?\s*(?:=|:=|:|=>)\s*["']?`
		// An unquoted or quoted value up to whitespace, a quote or a
		// delimiter.
		value = `(?P<secret>[^\s"'` + "`" + `,;<>]+)`
	)
	return []rule{
		// Private key blocks, PEM, OpenSSH and PGP, across lines; a block
		// cut short (no END line) is redacted to the end of its base64.
		newRule("private-key", []string{"private key"},
			`-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`, nil),
		newRule("private-key", []string{"private key"},
			`-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\r\n]*`, nil),

		// Cloud providers.
		newRule("aws-access-key-id", []string{"akia", "asia", "abia", "acca", "a3t"},
			`\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}\b`, nil),
		newRule("aws-secret-access-key", []string{"aws", "secret_access", "secretaccess"},
			`(?i)(?:aws|secret_?access)[A-Za-z0-9_.-]*`+assign+`(?P<secret>[A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|$)`, nil),
		newRule("gcp-api-key", []string{"aiza"}, `\bAIza[0-9A-Za-z_-]{35}`, nil),

		// Source hosts.
		newRule("github-token", []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"},
			`\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b`, nil),
		newRule("github-token", []string{"github_pat_"}, `\bgithub_pat_[A-Za-z0-9_]{22,255}`, nil),
		newRule("gitlab-token", []string{"glpat-"}, `\bglpat-[A-Za-z0-9_-]{20,}`, nil),

		// AI providers.
		newRule("anthropic-api-key", []string{"sk-ant-"}, `\bsk-ant-[a-z0-9]+-[A-Za-z0-9_-]{32,}`, nil),
		newRule("openai-api-key", []string{"sk-"},
			`\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}|\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|\bsk-[A-Za-z0-9]{48}\b`, nil),

		// SaaS tokens with fixed prefixes.
		newRule("slack-token", []string{"xox"}, `\bxox[abposr]-[A-Za-z0-9-]{10,}`, nil),
		newRule("stripe-key", []string{"_live_", "_test_"}, `\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}`, nil),
		newRule("jwt", []string{"eyj"}, `\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`, nil),

		// HTTP credentials.
		newRule("bearer-token", []string{"bearer"},
			`(?i)\bbearer\s+(?P<secret>[A-Za-z0-9\-._~+/]{12,}=*)`, looksSecret(12)),
		newRule("basic-auth", []string{"basic"},
			`(?i)\bauthorization["']?\s*[:=]\s*["']?basic\s+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})`, nil),
		newRule("url-password", []string{"://"},
			`\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@"']+:(?P<secret>[^\s@/"']+)@`, looksSecret(3)),

		// Assignments in code, .env, YAML, JSON and shell. The key names
		// the kind; the value must look like a credential.
		newRule("password", []string{"pass", "pwd"},
			`(?i)(?:password|passwd|passphrase|pwd)[A-Za-z0-9_.-]*`+assign+value, looksSecret(6)),
		newRule("password", []string{"pass", "pwd"},
			`(?i)\b(?:password|passwd|passphrase)\s+(?:is|was|=)\s+["']?`+value, looksSecret(6)),
		newRule("password", []string{"--password", "-p"},
			`(?:--password[= ]|\s-p)["']?(?P<secret>[^\s"']{6,})`, looksSecret(6)),
		newRule("api-key", []string{"key"},
			`(?i)(?:api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key)[A-Za-z0-9_.-]*`+assign+value, looksSecret(8)),
		newRule("secret", []string{"secret", "token", "credential", "auth"},
			`(?i)(?:secret|token|credential|auth)[A-Za-z0-9_.-]*`+assign+value, looksSecret(8)),
	}
}
