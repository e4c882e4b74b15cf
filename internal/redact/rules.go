package redact

// Value shapes shared by the assignment rules.
const (
	// An assignment: key, optional closing quote, separator, optional
	// opening quote (ASCII or typographic).
	assign = `["'“”‘’]?\s*(?:=|:=|:|=>|\s+is\s+|\s+was\s+)\s*["'“”‘’]?`
	// A value up to whitespace, a quote or a delimiter.
	value = `(?P<secret>[^\s"'` + "`" + `,;<>“”‘’()\[\]{}]+)`
	// What may follow a credential word in a key name: DB_PASSWORD_B64 and
	// SECRET_KEY are credentials, tokenizer and secret_arn are not.
	keySuffix = `(?:[_.-]?(?:key|value|secret|token|string|str|b64|base64|hex))?`
)

// builtin returns the built-in rules, most specific first: when two rules
// find the same secret, the earlier one names it. Keywords are lower case;
// a rule runs only on the lines around one of its keywords.
func builtin() []rule {
	return []rule{
		// Private key blocks (PEM, OpenSSH, PGP), across lines; a block cut
		// short (no END line) is redacted to the end of its base64.
		{kind: "private-key", keywords: []string{"private key"}, multiline: true,
			expr: `-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`},
		{kind: "private-key", keywords: []string{"private key"}, multiline: true,
			expr: `-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\r\n]*[A-Za-z0-9+/=]`},
		{kind: "private-key", keywords: []string{`private_key`}, // a key inside JSON, newlines escaped
			expr: `-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?:\\n|[A-Za-z0-9+/=])+?-----END[A-Z0-9 ]*PRIVATE KEY-----`},
		{kind: "age-secret-key", keywords: []string{"age-secret-key-"}, expr: `AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}`},

		// Cloud providers.
		{kind: "aws-access-key-id", keywords: []string{"akia", "asia", "abia", "acca", "a3t"},
			expr: `\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}\b`},
		{kind: "aws-session-token", keywords: []string{"iqojb3jpz2lux2", "fwogzxivyxdz"},
			expr: `(?:IQoJb3JpZ2luX2|FwoGZXIvYXdz)[A-Za-z0-9/+=]{80,}`},
		{kind: "aws-secret-access-key", keywords: []string{"aws", "secret", "credential", "key", "access"},
			expr: `(?:^|[^A-Za-z0-9/+=])(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`, valid: mixedCase(40)},
		{kind: "gcp-api-key", keywords: []string{"aiza"}, expr: `\bAIza[0-9A-Za-z_-]{35}`},
		{kind: "azure-storage-key", keywords: []string{"accountkey"},
			expr: `(?i)AccountKey=(?P<secret>[A-Za-z0-9+/]{40,}={0,2})`},
		{kind: "azure-sas-token", keywords: []string{"sig="},
			expr: `[?&]sig=(?P<secret>[A-Za-z0-9%+/]{30,}(?:%3D|=){0,2})`},

		// Source hosts and registries.
		{kind: "github-token", keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"},
			expr: `\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b`},
		{kind: "github-token", keywords: []string{"github_pat_"}, expr: `\bgithub_pat_[A-Za-z0-9_]{22,255}`},
		{kind: "gitlab-token", keywords: []string{"glpat-", "gldt-", "glrt-", "glptt-", "glsoat-", "gloas-", "glcbt-"},
			expr: `\b(?:glpat|gldt|glrt|glptt|glsoat|gloas|glcbt)-[A-Za-z0-9_-]{20,}`},
		{kind: "npm-token", keywords: []string{"npm_"}, expr: `\bnpm_[A-Za-z0-9]{36}\b`},
		{kind: "pypi-token", keywords: []string{"pypi-"}, expr: `\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}`},
		{kind: "dockerhub-token", keywords: []string{"dckr_pat_"}, expr: `\bdckr_pat_[A-Za-z0-9_-]{27,}`},
		{kind: "terraform-cloud-token", keywords: []string{"atlasv1"}, expr: `\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,}`},
		{kind: "pulumi-token", keywords: []string{"pul-"}, expr: `\bpul-[a-f0-9]{40}\b`},

		// AI providers.
		{kind: "anthropic-api-key", keywords: []string{"sk-ant-"}, expr: `\bsk-ant-[a-z0-9]+-[A-Za-z0-9_-]{32,}`},
		{kind: "openai-api-key", keywords: []string{"sk-"},
			expr: `\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}|\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|\bsk-[A-Za-z0-9]{48}\b`},
		{kind: "huggingface-token", keywords: []string{"hf_"}, expr: `\bhf_[A-Za-z]{34}\b`},

		// Payment, chat and SaaS tokens with fixed shapes.
		{kind: "stripe-key", keywords: []string{"_live_", "_test_"}, expr: `\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}`},
		{kind: "stripe-webhook-secret", keywords: []string{"whsec_"}, expr: `\bwhsec_[A-Za-z0-9+/]{24,}`},
		{kind: "slack-token", keywords: []string{"xox"}, expr: `\bxox[abposre]-[A-Za-z0-9-]{10,}`},
		{kind: "slack-app-token", keywords: []string{"xapp-"}, expr: `\bxapp-\d-[A-Z0-9]+-\d+-[a-f0-9]+`},
		{kind: "slack-webhook", keywords: []string{"hooks.slack.com"},
			expr: `hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9]+/[A-Za-z0-9]+/(?P<secret>[A-Za-z0-9]{16,})`},
		{kind: "discord-webhook", keywords: []string{"/api/webhooks/"},
			expr: `discord(?:app)?\.com/api/webhooks/\d+/(?P<secret>[A-Za-z0-9_-]{60,})`},
		{kind: "discord-bot-token", keywords: []string{"discord", "bot", "token"},
			expr: `\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}\b`, valid: mixedCase(40)},
		{kind: "telegram-bot-token", keywords: []string{":aa"}, expr: `\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b`},
		{kind: "twilio-api-key", keywords: []string{"twilio", "api key", "sid"}, expr: `\b(?:SK|AC)[0-9a-f]{32}\b`},
		{kind: "sendgrid-api-key", keywords: []string{"sg."}, expr: `\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b`},
		{kind: "mailgun-api-key", keywords: []string{"key-"}, expr: `\bkey-[0-9a-f]{32}\b`},
		{kind: "mailchimp-api-key", keywords: []string{"-us"}, expr: `\b[0-9a-f]{32}-us\d{1,2}\b`},
		{kind: "shopify-token", keywords: []string{"shpat_", "shpca_", "shppa_", "shpss_"}, expr: `\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b`},
		{kind: "linear-api-key", keywords: []string{"lin_api_"}, expr: `\blin_api_[A-Za-z0-9]{40}\b`},
		{kind: "digitalocean-token", keywords: []string{"dop_v1_", "doo_v1_", "dor_v1_"}, expr: `\bdo[opr]_v1_[a-f0-9]{64}\b`},
		{kind: "databricks-token", keywords: []string{"dapi"}, expr: `\bdapi[a-f0-9]{32}(?:-\d)?\b`},
		{kind: "heroku-api-key", keywords: []string{"hrku-"}, expr: `\bHRKU-[A-Za-z0-9_-]{40,}`},
		{kind: "doppler-token", keywords: []string{"dp."}, expr: `\bdp\.(?:st|ct|sa|scim|audit|pt)\.(?:[a-z0-9_-]{2,35}\.)?[A-Za-z0-9]{40,44}\b`},
		{kind: "atlassian-api-token", keywords: []string{"atatt3"}, expr: `\bATATT3[A-Za-z0-9_=-]{150,}`},
		{kind: "postman-api-key", keywords: []string{"pmak-"}, expr: `\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b`},
		{kind: "newrelic-key", keywords: []string{"nrak-", "nrii-", "nrjs-"}, expr: `\bNR(?:AK|II|JS)-[A-Z0-9]{20,32}\b`},
		{kind: "grafana-token", keywords: []string{"glc_", "glsa_"}, expr: `\b(?:glc_[A-Za-z0-9+/=]{32,}|glsa_[A-Za-z0-9]{32}_[a-f0-9]{8})`},
		{kind: "sentry-token", keywords: []string{"sntrys_", "sntryu_"}, expr: `\bsntry[su]_[A-Za-z0-9+/=_]{40,}`},
		{kind: "notion-token", keywords: []string{"secret_", "ntn_"}, expr: `\b(?:secret_[A-Za-z0-9]{43}|ntn_[A-Za-z0-9]{40,})\b`},
		{kind: "onepassword-token", keywords: []string{"ops_"}, expr: `\bops_eyJ[A-Za-z0-9+/=_-]{40,}`},
		{kind: "vault-token", keywords: []string{"hvs.", "hvb.", "hvr."}, expr: `\bhv[sbr]\.[A-Za-z0-9_-]{24,}`},
		{kind: "jwt", keywords: []string{"eyj"}, expr: `\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`},
		{kind: "eth-private-key", keywords: []string{"0x"},
			expr: `(?i)(?:private|priv_?key|secret|from_key|signing|signer|wallet|mnemonic)[^\n]{0,40}?\b0x(?P<secret>[a-f0-9]{64})\b`},

		// HTTP and connection credentials.
		{kind: "bearer-token", keywords: []string{"bearer"},
			expr: `(?i)\bbearer\s+(?P<secret>[A-Za-z0-9\-._~+/]{12,}=*)`, valid: looksSecret(12)},
		{kind: "basic-auth", keywords: []string{"basic"},
			expr: `(?i)\bauthorization["']?\s*[:=]\s*["']?basic\s+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})`},
		{kind: "url-password", keywords: []string{"://"},
			expr: `\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@"']+:(?P<secret>[^\s@/"']+)@`, valid: looksSecret(3)},
		{kind: "session-cookie", keywords: []string{"cookie"},
			expr: `(?i)\b[A-Za-z0-9_.-]*(?:sid|sess|session|token|auth)[A-Za-z0-9_.-]*=(?P<secret>[^;\s'"]{16,})`, valid: looksSecret(16)},

		// Assignments in code, .env, YAML, JSON, shell and prose. The key
		// names the kind; the value must look like a credential.
		{kind: "password", keywords: []string{"pass", "pwd"},
			expr: `(?i)(?:password|passwd|passphrase|pwd|pass)` + keySuffix + assign + value, valid: looksSecret(6), tight: true},
		{kind: "password", keywords: []string{"-u ", "--user"},
			expr: `(?:\s-u\s*|--user[= ])["']?[^\s:"']+:(?P<secret>[^\s"'@]{6,})`, valid: looksSecret(6)},
		{kind: "password", keywords: []string{"--password", " -p"},
			expr: `(?:--password[= ]|\s-p)["']?(?P<secret>[^\s"']{6,})`, valid: looksSecret(6)},
		{kind: "api-key", keywords: []string{"key"},
			expr: `(?i)(?:api[_ -]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key|app[_-]?key|client[_-]?key|license[_-]?key)` + keySuffix + assign + value, valid: looksSecret(8), tight: true},
		{kind: "secret", keywords: []string{"secret", "token", "credential", "auth", "sig"},
			expr: `(?i)(?:secret|token|credentials?|auth|signature)` + keySuffix + assign + value, valid: looksSecret(8), tight: true},
		{kind: "secret", keywords: []string{"secret", "token"},
			expr: `(?i)\b(?:secret|token)\s+(?P<secret>[A-Za-z0-9_+/=.-]{16,})`, valid: looksSecret(16), tight: true},
		{kind: "secret", keywords: []string{"--token", "--secret", "--api-key", "--apikey"},
			expr: `(?i)--(?:token|secret|api-?key)[= ]["']?(?P<secret>[^\s"']{8,})`, valid: looksSecret(8)},
	}
}
