package redact

import (
	"regexp"
	"strings"
)

// Value shapes shared by the assignment rules.
const (
	// An assignment after the key: its closing quote (JSON's may be
	// escaped) or subscript (cfg['PASSWORD'] = ...), markdown emphasis, and
	// the separator, which may carry a type (PASSWORD: Final = ...).
	assign = `\\?["'“”‘’]?\]?(?:\*\*|__)?\s*(?P<sep>:\s*[A-Za-z_][A-Za-z0-9_.\[\]]*\s*=|\s+(?:string|str|String|&str|&'static str)\s*=|=|:=|:|=>|\s+is\s+|\s+was\s+)(?:\*\*|__)?\s*`
	// The value: a literal wrapped in a constructor (String::from("...")),
	// a quoted value up to its closing quote (ASCII, escaped, backtick or
	// typographic), or an unquoted one up to whitespace, a quote or a
	// delimiter.
	value = `(?:(?:String::from|String::new|Some|SecretString::new|SecretString::from|Secret::new|SecretStr|Secret|SecureString|String\.valueOf|new\s+String|str|b)\(\s*["'](?P<secret>[^"'\r\n]+)["']\s*\)|\\?"(?P<secret>[^"\\\r\n]+)\\?"|'(?P<secret>[^'\r\n]+)'|` + "`(?P<secret>[^`\\r\\n]+)`|" + `[“‘](?P<secret>[^“”‘’\r\n]+)[”’]|\\?["'“”‘’]?(?P<secret>[^\s"'` + "`" + `,;<>“”‘’()\[\]{}]+))`
	// What may follow a credential word in a key name: DB_PASSWORD_B64 and
	// SECRET_KEY are credentials, tokenizer and secret_arn are not.
	keySuffix = `(?:[_.-]?(?:key|value|secret|token|string|str|b64|base64|hex|data|text|txt|base|prod|production|staging|dev|live|test|new|old|v?[0-9]))?`
	// Words naming a password in a key.
	passwordKey = `(?:password|passwd|passphrase|passcode|passwort|pwd|pass|pw|requirepass|masterauth)`
	// A UUID.
	uuidShape = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`
	// Bytes that end a token.
	tokenEnd = `(?:[^A-Za-z0-9_-]|$)`
)

// nearEither is near with the words allowed after the value as well
// ("0x... // private key of the test wallet").
func nearEither(kind string, words []string, shape string, span int, valid func(string) bool) rule {
	r := near(kind, words, shape, span, valid)
	r.tight, r.anchored = false, false
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = regexp.QuoteMeta(w)
	}
	r.expr += `|(?:^|[^A-Za-z0-9_+/=-])(?P<secret>` + shape + `)(?:[^A-Za-z0-9_+/=-]|$)[^\n]*?(?i:` + strings.Join(quoted, "|") + `)`
	return r
}

// near builds a context rule for a key without a distinctive prefix: one of
// the words, then within span bytes on the same line a value of the given
// shape, standing alone (not inside a longer token). The span is checked in
// Go: a bounded repetition would multiply the regexp's size.
func near(kind string, words []string, shape string, span int, valid func(string) bool) rule {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = regexp.QuoteMeta(w)
	}
	return rule{kind: kind, keywords: words, valid: valid, around: within(span), tight: true, anchored: true,
		expr: `(?i:` + strings.Join(quoted, "|") + `)[^\n]*?(?:^|[^A-Za-z0-9_+/=-])(?P<secret>` + shape + `)(?:[^A-Za-z0-9_+/=-]|$)`}
}

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
		{kind: "private-key", keywords: []string{"static key"}, multiline: true,
			expr: `-----BEGIN OpenVPN Static key V1-----(?s:.*?)-----END OpenVPN Static key V1-----`},
		{kind: "private-key", keywords: []string{"private-lines:"}, multiline: true, // PuTTY .ppk
			expr: `Private-Lines:\s*\d+\r?\n(?P<secret>(?:[A-Za-z0-9+/=]+\r?\n)*[A-Za-z0-9+/=]+)`},
		{kind: "age-secret-key", keywords: []string{"age-secret-key-"}, expr: `AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}`},

		// Cloud providers.
		{kind: "aws-access-key-id", keywords: []string{"akia", "asia", "abia", "acca", "a3t"}, shape: true,
			expr: `\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}\b`},
		{kind: "aws-session-token", keywords: []string{"iqojb3jpz2lux2", "fwogzxivyxdz"}, shape: true,
			expr: `(?:IQoJb3JpZ2luX2|FwoGZXIvYXdz)[A-Za-z0-9/+=]{80,}`},
		{kind: "aws-secret-access-key", keywords: []string{"aws", "secret", "credential", "key", "access"},
			expr: `(?:^|[^A-Za-z0-9/+=])(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`, valid: mixedCase(40)},
		{kind: "gcp-api-key", keywords: []string{"aiza"}, shape: true, expr: `\bAIza[0-9A-Za-z_-]{35}`},
		{kind: "google-oauth", keywords: []string{"gocspx-", "ya29.", "1//0"}, shape: true,
			expr: `\bGOCSPX-[A-Za-z0-9_-]{28}|\bya29\.[A-Za-z0-9_-]{20,}|\b1//0[A-Za-z0-9_-]{40,}`},
		{kind: "azure-storage-key", keywords: []string{"accountkey", "sharedaccesskey"},
			expr: `(?i)(?:AccountKey|SharedAccessKey)=(?P<secret>[A-Za-z0-9+/]{30,}={0,2})`},
		{kind: "azure-sas-token", keywords: []string{"sig="},
			expr: `[?&]sig=(?P<secret>[A-Za-z0-9%+/]{30,}(?:%3D|=){0,2})`},
		{kind: "azure-client-secret", keywords: []string{"q~"}, shape: true,
			expr: `(?:^|[^A-Za-z0-9_~.-])(?P<secret>[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?:[^A-Za-z0-9_~.-]|$)`},
		{kind: "alibaba-access-key", keywords: []string{"ltai"}, shape: true, expr: `\bLTAI[A-Za-z0-9]{12,20}\b`},

		// Source hosts, registries, CI.
		{kind: "github-token", keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, shape: true,
			expr: `\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b`},
		{kind: "github-token", keywords: []string{"github_pat_"}, shape: true, expr: `\bgithub_pat_[A-Za-z0-9_]{22,255}`},
		{kind: "gitlab-token", keywords: []string{"glpat-", "gldt-", "glrt-", "glptt-", "glsoat-", "gloas-", "glcbt-", "glimt-", "glft-", "glagent-"}, shape: true,
			expr: `\b(?:glpat|gldt|glrt|glptt|glsoat|gloas|glcbt|glimt|glft|glagent)-[A-Za-z0-9_-]{20,}`},
		{kind: "npm-token", keywords: []string{"npm_"}, shape: true, expr: `\bnpm_[A-Za-z0-9]{36}\b`},
		{kind: "pypi-token", keywords: []string{"pypi-"}, shape: true, expr: `\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}`},
		{kind: "rubygems-token", keywords: []string{"rubygems_"}, shape: true, expr: `\brubygems_[a-f0-9]{48}\b`},
		{kind: "nuget-key", keywords: []string{"oy2"}, shape: true, expr: `\boy2[a-z0-9]{43}\b`},
		{kind: "clojars-token", keywords: []string{"clojars_"}, shape: true, expr: `\bCLOJARS_[a-z0-9]{60}\b`},
		{kind: "dockerhub-token", keywords: []string{"dckr_pat_"}, shape: true, expr: `\bdckr_pat_[A-Za-z0-9_-]{27,}`},
		{kind: "jfrog-token", keywords: []string{"akcp", "cmvmdgtu"}, shape: true, expr: `\bAKCp[A-Za-z0-9]{60,80}\b|\bcmVmdGtu[A-Za-z0-9]{56,}`},
		{kind: "terraform-cloud-token", keywords: []string{"atlasv1"}, shape: true, expr: `\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,}`},
		{kind: "pulumi-token", keywords: []string{"pul-"}, shape: true, expr: `\bpul-[a-f0-9]{40}\b`},
		{kind: "bitbucket-app-password", keywords: []string{"atbb"}, shape: true, expr: `\bATBB[A-Za-z0-9_=.-]{28,}`},
		{kind: "ci-token", keywords: []string{"bkua_", "ccipat_", "cciprj_", "sqp_", "squ_", "sqa_"}, shape: true,
			expr: `\b(?:bkua_[a-f0-9]{40}|CCIP(?:AT|RJ)_[A-Za-z0-9]{22}_[a-f0-9]{40}|sq[pua]_[a-f0-9]{40})\b`},

		// AI providers.
		{kind: "anthropic-api-key", keywords: []string{"sk-ant-"}, shape: true, expr: `\bsk-ant-[a-z0-9]+-[A-Za-z0-9_-]{32,}`},
		{kind: "openai-api-key", keywords: []string{"sk-"}, shape: true,
			expr: `\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}|\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|\bsk-[A-Za-z0-9]{48}\b`},
		{kind: "ai-api-key", keywords: []string{"sk-", "gsk_", "r8_", "pplx-", "xai-", "hf_", "api_org_"}, shape: true, valid: random(20),
			expr: `\b(?:sk-[A-Za-z0-9]{32,}|gsk_[A-Za-z0-9]{48,56}|r8_[A-Za-z0-9]{37}|pplx-[A-Za-z0-9]{48,}|xai-[A-Za-z0-9]{70,90}|hf_[A-Za-z0-9]{34,40}|api_org_[A-Za-z0-9]{34})\b`},
		{kind: "huggingface-token", keywords: []string{"hf_"}, shape: true, expr: `\bhf_[A-Za-z]{34}\b`},

		// Payment, chat and SaaS tokens with fixed shapes.
		{kind: "stripe-key", keywords: []string{"_live_", "_test_"}, shape: true, expr: `\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}`},
		{kind: "stripe-webhook-secret", keywords: []string{"whsec_"}, shape: true, expr: `\bwhsec_[A-Za-z0-9+/]{24,}`},
		{kind: "payment-token", keywords: []string{"shippo_", "sq0atp-", "sq0csp-", "flwseck", "access_token$", "rzp_", "eaaa"}, shape: true,
			expr: `\bshippo_(?:live|test)_[a-f0-9]{40}\b|\bsq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}|\bFLWSECK(?:_TEST)?-[a-f0-9]{32}-X\b|access_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32}|\brzp_(?:live|test)_[A-Za-z0-9]{14}\b|\bEAAA[A-Za-z0-9_-]{56,}`},
		{kind: "slack-token", keywords: []string{"xox"}, shape: true, expr: `\bxox[abposre](?:\.xox[bp])?-[A-Za-z0-9-]{10,}`},
		{kind: "slack-app-token", keywords: []string{"xapp-"}, shape: true, expr: `\bxapp-\d-[A-Z0-9]+-\d+-[a-f0-9]+`},
		{kind: "slack-webhook", keywords: []string{"hooks.slack.com"},
			expr: `hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9]+/[A-Za-z0-9]+/(?P<secret>[A-Za-z0-9]{16,})`},
		{kind: "discord-webhook", keywords: []string{"/api/webhooks/"},
			expr: `discord(?:app)?\.com/api/webhooks/\d+/(?P<secret>[A-Za-z0-9_-]{60,})`},
		{kind: "discord-bot-token", keywords: []string{"discord", "bot", "token", ".run(", "login("}, shape: true,
			expr: `(?:^|[^A-Za-z0-9_-])(?P<secret>[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40})` + tokenEnd, valid: mixedCase(40)},
		{kind: "telegram-bot-token", keywords: []string{":aa", "telegram", "bot"}, shape: true,
			expr: `(?:^|[^0-9])(?P<secret>\d{8,10}:AA[A-Za-z0-9_-]{30,40})` + tokenEnd},
		// Twilio SIDs (SK api key, AC account): "sk"/"ac" would open a window
		// in most English text, so a case-sensitive scan finds them instead.
		{kind: "twilio-api-key", find: findTwilioSIDs},
		{kind: "firebase-server-key", keywords: []string{"apa91b"}, shape: true, expr: `\bAAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{100,}`},
		{kind: "sendgrid-api-key", keywords: []string{"sg."}, shape: true, expr: `\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b`},
		{kind: "brevo-api-key", keywords: []string{"xkeysib-", "xsmtpsib-"}, shape: true, expr: `\bx(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16}\b`},
		{kind: "mailgun-api-key", keywords: []string{"key-"}, shape: true, expr: `\bkey-[0-9a-f]{32}\b`},
		{kind: "mailchimp-api-key", keywords: []string{"-us"}, shape: true, expr: `\b[0-9a-f]{32}-us\d{1,2}\b`},
		{kind: "shopify-token", keywords: []string{"shpat_", "shpca_", "shppa_", "shpss_"}, shape: true, expr: `\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b`},
		{kind: "linear-api-key", keywords: []string{"lin_api_", "lin_oauth_"}, shape: true, expr: `\blin_(?:api|oauth)_[A-Za-z0-9]{40,64}\b`},
		{kind: "digitalocean-token", keywords: []string{"dop_v1_", "doo_v1_", "dor_v1_"}, shape: true, expr: `\bdo[opr]_v1_[a-f0-9]{64}\b`},
		{kind: "databricks-token", keywords: []string{"dapi"}, shape: true, expr: `\bdapi[a-f0-9]{32}(?:-\d)?\b`},
		{kind: "heroku-api-key", keywords: []string{"hrku-"}, shape: true, expr: `\bHRKU-[A-Za-z0-9_-]{40,}`},
		{kind: "doppler-token", keywords: []string{"dp."}, shape: true, expr: `\bdp\.(?:st|ct|sa|scim|audit|pt)\.(?:[a-z0-9_-]{2,35}\.)?[A-Za-z0-9]{40,44}\b`},
		{kind: "atlassian-api-token", keywords: []string{"atatt3", "atctt3"}, shape: true, expr: `\bAT[AC]TT3[A-Za-z0-9_=-]{150,}`},
		{kind: "postman-api-key", keywords: []string{"pmak-"}, shape: true, expr: `\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b`},
		{kind: "newrelic-key", keywords: []string{"nrak-", "nrii-", "nrjs-", "nral", "nriq-"}, shape: true,
			expr: `\bNR(?:AK|II|JS|IQ)-[A-Za-z0-9]{19,32}\b|\b[a-fA-F0-9]{36}NRAL\b`},
		{kind: "grafana-token", keywords: []string{"glc_", "glsa_", "eyjrijoi"}, shape: true,
			expr: `\b(?:glc_[A-Za-z0-9+/=]{32,}|glsa_[A-Za-z0-9]{32}_[a-f0-9]{8}|eyJrIjoi[A-Za-z0-9+/=]{40,})`},
		{kind: "sentry-token", keywords: []string{"sntrys_", "sntryu_"}, shape: true, expr: `\bsntry[su]_[A-Za-z0-9+/=_]{40,}`},
		{kind: "notion-token", keywords: []string{"secret_", "ntn_"}, shape: true, expr: `\b(?:secret_[A-Za-z0-9]{43}|ntn_[A-Za-z0-9]{40,})\b`},
		{kind: "onepassword-token", keywords: []string{"ops_"}, shape: true, expr: `\bops_eyJ[A-Za-z0-9+/=_-]{40,}`},
		{kind: "vault-token", keywords: []string{"hvs.", "hvb.", "hvr."}, shape: true, expr: `\bhv[sbr]\.[A-Za-z0-9_-]{24,}`},
		{kind: "planetscale-token", keywords: []string{"pscale_"}, shape: true, expr: `\bpscale_(?:pw|tkn|oauth)_[A-Za-z0-9_.=-]{32,64}`},
		{kind: "saas-token", keywords: []string{"sbp_", "cfpat-", "pnu_", "dt0c01.", "glptt-", "rnd_", "fo1_", "nfp_", "tfp_", "pat-na1-", "pat-eu1-", "sk.eyj", "frame.io", "fio-u-"}, shape: true,
			expr: `\b(?:sbp_[a-f0-9]{40}|CFPAT-[A-Za-z0-9_-]{43}|pnu_[A-Za-z0-9]{36}|dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}|rnd_[A-Za-z0-9]{32}|fo1_[A-Za-z0-9_-]{43}|nfp_[A-Za-z0-9]{36}|tfp_[A-Za-z0-9_.-]{40,}|pat-(?:na|eu)1-` + uuidShape + `|sk\.eyJ[A-Za-z0-9_.-]{40,}|fio-u-[A-Za-z0-9_=-]{64})`},
		{kind: "dropbox-token", keywords: []string{"sl."}, shape: true, expr: `\bsl\.(?:u\.)?[A-Za-z0-9_-]{100,}`},
		{kind: "airtable-token", keywords: []string{"pat"}, shape: true, expr: `\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b`},
		{kind: "launchdarkly-key", keywords: []string{"sdk-", "mob-", "api-"}, shape: true, expr: `\b(?:sdk|mob|api)-` + uuidShape + `\b`},
		{kind: "aws-ecr-token", keywords: []string{"eyjwyxlsb2fkijoi"}, shape: true, expr: `\beyJwYXlsb2FkIjoi[A-Za-z0-9+/=]{100,}`},
		{kind: "jwt", keywords: []string{"eyj"}, shape: true, expr: `\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`},

		// Keys without a distinctive prefix, told by a word near them.
		nearEither("eth-private-key", []string{"private", "priv_key", "privkey", "from_key", "signing", "signer", "wallet", "mnemonic", "deployer", "secret"},
			`(?:0x)?[a-fA-F0-9]{64}`, 48, notDigest),
		near("seed-phrase", []string{"mnemonic", "seed phrase", "seed words", "recovery phrase", "secret phrase", "seed:"},
			`[a-z]{3,8}(?: [a-z]{3,8}){11,23}`, 24, isSeedPhrase),
		near("twilio-auth-token", []string{"twilio"}, `[a-f0-9]{32}`, 48, nil),
		near("mailgun-api-key", []string{"mailgun"}, `[a-f0-9]{32}-[a-f0-9]{8}-[a-f0-9]{8}`, 48, nil),
		near("datadog-key", []string{"datadog", "dd_api_key", "dd_app_key", "dd-api-key", "dd-application-key"}, `[a-f0-9]{40}|[a-f0-9]{32}`, 48, nil),
		near("newrelic-key", []string{"new_relic", "newrelic", "new relic", "nr_license"}, `[a-fA-F0-9]{40}`, 48, nil),
		near("heroku-api-key", []string{"heroku"}, uuidShape, 48, nil),
		near("telegram-bot-token", []string{"telegram", "bot"}, `\d{8,10}:[A-Za-z0-9_-]{35}`, 64, nil),
		near("service-key", []string{"algolia", "bugsnag", "rollbar", "pusher", "fastly", "facebook", "fb_app", "mapbox", "pagerduty", "okta", "cloudflare", "netlify", "vercel", "snyk", "circleci", "codecov", "launchdarkly", "honeycomb", "postmark", "mixpanel", "amplitude", "zendesk", "cohere", "mistral", "airtable", "clickup", "figma", "dropbox", "contentful", "typesense", "meilisearch", "pinecone", "weaviate", "supabase", "firebase", "onesignal", "coinbase", "binance", "segment", "jenkins", "sonar", "travis", "bitbucket", "jira", "confluence", "artifactory", "nexus", "harbor", "quay"},
			`[A-Za-z0-9_-]{20,}`, 48, generated(20)),
		near("service-key", []string{"algolia", "bugsnag", "rollbar", "fastly", "facebook", "fb_app", "postmark", "mixpanel", "amplitude", "jenkins", "x-auth-key", "cf_api_key"},
			`[a-f0-9]{32,40}`, 48, hexKey),
		// A credential word, then a generated-looking value in prose or a
		// table ("the API key is ...", "client secret value ..."); after the
		// bare word "key" the value must mix cases and digits.
		near("secret", []string{"key"}, `[A-Za-z0-9_~.+/-]{20,}={0,2}`, 32, generated(20)),
		// A credential word, then a generated-looking value in prose or a
		// table ("the API key is ...", "client secret value ...").
		near("secret", []string{"secret", "token", "api key", "apikey", "api-key", "access key", "auth key", "license key", "app key", "credential"},
			`[A-Za-z0-9_~.+/-]{20,}={0,2}`, 32, random(20)),

		// HTTP and connection credentials.
		{kind: "bearer-token", keywords: []string{"bearer", "authorization", "token ", "ssws", "bot "},
			expr: `(?i)(?:\bbearer|\bauthorization["']?\s*[:=]\s*["']?(?:token|ssws|bot|apikey|key|splunk))\s+(?P<secret>[A-Za-z0-9\-._~+/]{12,}=*)`, valid: looksSecret(12)},
		{kind: "basic-auth", keywords: []string{"basic"},
			expr: `(?i)\bauthorization["']?\s*[:=]\s*["']?basic\s+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})`},
		{kind: "api-key-header", keywords: []string{"authorization", "-key", "-token", "-secret", "api-key", "apikey"},
			expr: `(?i)\b(?:authorization|x-[a-z-]*(?:key|token|secret|auth)|[a-z-]*-(?:api|subscription|functions|access|auth|private|server)-(?:key|token)|api-?key|private-token)["']?\s*[:=]\s*["']?(?:key=)?(?P<secret>[A-Za-z0-9\-._~+/:=]{12,})`, valid: looksSecret(12)},
		{kind: "url-password", keywords: []string{"://"},
			expr: `\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/"'@]*(?:@[^\s:/"'@]*)?:(?P<secret>[^\s/"']+)@[^\s/"'@]+`, valid: urlPassword},
		// Session ids: in a Cookie or Set-Cookie header (or curl -b) any
		// session-named cookie's value; elsewhere (a log line, a dict) only
		// a long generated one, since session=<id> is often a harmless
		// reference there.
		{kind: "session-cookie", keywords: []string{"cookie", "-b "},
			expr: `(?i)\b[A-Za-z0-9_.-]*(?:sid|sess|session|token|auth)[A-Za-z0-9_.-]*=(?P<secret>[^;\s'"]{16,})`, valid: looksSecret(16)},
		{kind: "session-cookie", keywords: []string{"sessid", "sessionid", "_session", "connect.sid", "session=", "sess=", "sid="},
			expr: `(?i)\b[A-Za-z0-9_.-]*(?:sid|sess|session)[A-Za-z0-9_.-]*=(?P<secret>[^;\s'"&]{24,})` +
				`|(?i)["'][A-Za-z0-9_.-]*(?:sid|sess|session)[A-Za-z0-9_.-]*["']\s*:\s*["'](?P<secret>[^"'\s]{24,})["']`, valid: generated(24)},
		{kind: "session-cookie", keywords: []string{"\ttrue\t", "\tfalse\t"}, // a Netscape cookie jar line
			expr: `(?im)(?:^|\s)#?\S+\t(?:TRUE|FALSE)\t\S+\t(?:TRUE|FALSE)\t\d+\t[A-Za-z0-9_.-]*(?:sid|sess|session|token|auth)[A-Za-z0-9_.-]*\t(?P<secret>\S{16,})`, valid: looksSecret(16)},

		{kind: "password", keywords: []string{"pgpass"}, multiline: true, valid: looksPassword, // host:port:db:user:password
			expr: `(?m)(?:^|[\s"'])[A-Za-z0-9_.*-]+:(?:\d+|\*):[^\s:]+:[^\s:]+:(?P<secret>[^\s"']+)`},
		{kind: "password", keywords: []string{"variable"}, multiline: true, valid: looksPassword, // Terraform variable defaults
			expr: `variable\s+"[A-Za-z0-9_-]*(?i:pass|pwd|secret|token|key)[A-Za-z0-9_-]*"\s*\{[^{}]*?\bdefault\s*=\s*"(?P<secret>[^"\n]+)"`},
		// Environment entries as lists of name and value (Kubernetes env,
		// ECS task definitions, Terraform): the name says what the value is.
		{kind: "password", keywords: []string{"name"}, multiline: true, valid: looksPassword,
			expr: `(?i)\bname["']?\s*[:=]\s*["']?[A-Za-z0-9_.-]*(?:pass|pwd|secret|token|key|credential|auth)[A-Za-z0-9_.-]*["']?[ \t]*,?[ \t]*\r?\n?[ \t]*-?[ \t]*["']?value["']?\s*[:=][ \t]*` + value},
		// Environment set by a command: setx NAME value, set -x NAME value
		// (fish), setenv NAME value (csh).
		{kind: "password", keywords: []string{"setx", "set -", "setenv"}, valid: looksPassword,
			expr: `(?i)\b(?:setx|set\s+-[a-z]*x[a-z]*|setenv)\s+[A-Za-z0-9_]*(?:pass|pwd|secret|token|key|auth|credential)[A-Za-z0-9_]*\s+` + value},
		// A string naming a credential, then a string: define('DB_PASSWORD',
		// '...'), put("password", "..."), Map.of("token", "...").
		{kind: "password", keywords: []string{`password"`, `password'`, `passwd"`, `passwd'`, `pwd"`, `pwd'`, `secret"`, `secret'`, `token"`, `token'`, `key"`, `key'`}, tight: true, valid: looksPassword,
			expr: `["'][A-Za-z0-9_.-]*(?i:password|passwd|pwd|secret|token|api_?key|apikey)["']\s*,\s*["'](?P<secret>[^"'\n]+)["']`},
		// A Go MySQL DSN: user:password@tcp(host).
		{kind: "password", keywords: []string{"@tcp(", "@unix("}, valid: urlPassword,
			expr: `(?:^|[\s"'` + "`" + `])[^\s:"'@/` + "`" + `]+:(?P<secret>[^\s"'@` + "`" + `]+)@(?:tcp|unix)\(`},
		// A password piped into a tool that reads it from stdin.
		{kind: "password", keywords: []string{"--password-stdin", "sudo -s", "--stdin", "chpasswd", "kinit"}, valid: looksPassword,
			expr: `\becho\s+(?:-n\s+)?["']?(?P<secret>[^\s"'|]+)["']?\s*\|\s*(?:(?:docker|podman|helm|nerdctl|oras|crane|skopeo|buildah)\b[^|\n]*--password-stdin|sudo\s+-S|passwd\s+--stdin|kinit)`},
		// The third argument of a connect call: (host or dsn, user, password).
		{kind: "password", keywords: []string{"sequelize(", "pdo(", "mysqli", "mysql_connect", "getconnection(", "pg_connect"}, valid: looksPassword,
			expr: `(?i)(?:new\s+Sequelize|new\s+PDO|new\s+mysqli|mysqli_connect|mysql_connect|getConnection)\s*\(\s*(?:"[^"\n]*"|'[^'\n]*'|[^,()'"\n]+)\s*,\s*(?:"[^"\n]*"|'[^'\n]*'|[^,()'"\n]+)\s*,\s*["'](?P<secret>[^"'\n]+)["']`},
		// Credentials passed positionally: the second string argument of a
		// login or basic-auth call, the string given to ConvertTo-SecureString.
		{kind: "password", keywords: []string{"auth=(", "auth = (", "basicauth(", "digestauth(", "networkcredential(", ".login(", "plainauth(", "getconnection(", "credentials(", "passwordauthentication(", "convertto-securestring"},
			valid: looksPassword,
			expr: `(?i)(?:\bauth\s*=\s*\(|Basic(?:Auth)?\(|DigestAuth\(|NetworkCredential\(|\.login\(|PlainAuth\(\s*"[^"]*"\s*,|getConnection\([^,()]+,|Credentials\(|PasswordAuthentication\()\s*["'][^"'\n]*["']\s*,\s*["'](?P<secret>[^"'\n]+)["']` +
				`|(?i)ConvertTo-SecureString\s+(?:-String\s+)?["'](?P<secret>[^"'\n]+)["']`},

		// Kubernetes and containers.
		{kind: "kubernetes-secret", keywords: []string{"kind"}, find: findSecretData},
		{kind: "password", keywords: []string{"password", "passwd", "secret", "token", "api key", "api_key", "apikey", "credential"}, find: findTableCells},
		{kind: "kubeconfig-key", keywords: []string{"client-key-data"},
			expr: `client-key-data["']?\s*:\s*["']?(?P<secret>[A-Za-z0-9+/=]{16,})`},
		{kind: "docker-auth", keywords: []string{`"auth"`, `"identitytoken"`, `"registrytoken"`},
			expr: `"(?:auth|identitytoken|registrytoken)"\s*:\s*"(?P<secret>[A-Za-z0-9+/=._-]{8,})"`},
		{kind: "kubernetes-secret", keywords: []string{"--from-literal"},
			expr: `--from-literal[= ]["']?[A-Za-z0-9_.-]+=(?P<secret>[^\s"']+)`, valid: looksPassword},

		// Passwords given to command-line tools: per tool, the flag that
		// takes one.
		{kind: "password", keywords: []string{"mysql", "mariadb"},
			expr: `(?i)\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mariadb|mariadb-dump)\b[^\n|;&]*?\s-p["']?(?P<secret>[^\s"'-][^\s"']*)`, valid: looksPassword},
		{kind: "password", keywords: []string{"sshpass", "docker", "podman", "helm", "az ", "sqlcmd", "bcp ", "ldap", "zip", "mongo", "redis-cli", "smbclient", "ncftp", "lftp", "ssh-keygen"},
			expr: `(?i)\b(?:sshpass|docker|podman|buildah|skopeo|nerdctl|helm|az|mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport)\b[^\n|;&]*?\s(?:-p[= ]?|--password[= ]|--pass[= ])["']?(?P<secret>[^\s"']+)` +
				`|\bredis-cli\b[^\n|;&]*?\s(?:-a[= ]?|--pass[= ]|--password[= ])["']?(?P<secret>[^\s"']+)` +
				`|\b(?:sqlcmd|bcp|zip|7z|unzip)\b[^\n|;&]*?\s-P\s*["']?(?P<secret>[^\s"']+)` +
				`|\bldap[a-z]*\b[^\n|;&]*?\s-w\s*["']?(?P<secret>[^\s"']+)` +
				`|\b(?:ncftp|ncftpput|ncftpget)\b[^\n|;&]*?\s-p\s*["']?(?P<secret>[^\s"']+)` +
				`|\blftp\b[^\n|;&]*?\s-u\s*["']?[^\s,"']+,(?P<secret>[^\s"']+)` +
				`|\bssh-keygen\b[^\n|;&]*?\s-[NP]\s*["']?(?P<secret>[^\s"']+)` +
				`|\bsmbclient\b[^\n|;&]*?\s-U\s*["']?[^\s%"']+%(?P<secret>[^\s"']+)`, valid: looksPassword},
		{kind: "password", keywords: []string{"rabbitmqctl", "htpasswd", "pass:", "/user:"},
			expr: `\brabbitmqctl\s+(?:add_user|change_password)\s+\S+\s+["']?(?P<secret>[^\s"']+)` +
				`|\bhtpasswd\s+(?:-[A-Za-z]+\s+)+[^\s-]\S*\s+\S+\s+["']?(?P<secret>[^\s"']+)` +
				`|-pass(?:in|out|word)?\s+["']?pass:(?P<secret>[^\s"']+)` +
				`|/user:\S+\s+["']?(?P<secret>[^\s"'/]+)`, valid: looksPassword},
		{kind: "password", keywords: []string{"-u ", "--user", "-a ", "--auth"},
			expr: `(?:\s-u\s*|\s-a\s+|--user[= ]|--auth[= ])["']?[^\s:"']+:(?P<secret>[^\s"']{4,})`, valid: looksPassword},
		{kind: "password", keywords: []string{"as the pass", "as pass", "as the token", "as the secret", "as the key", "as the api key", "as your pass"},
			expr: `(?i)["'` + "`" + `](?P<secret>[^"'` + "`" + `\s]{6,})["'` + "`" + `]\s+as\s+(?:the\s+|your\s+|a\s+)?(?:password|passphrase|token|secret|api key|key)\b`, valid: looksPassword},
		{kind: "password", keywords: []string{"--pass", "--pwd", "-password", "-passwd"},
			expr: `(?i)\s-{1,2}[a-z-]*(?:password|passwd|pass|pwd)[= ]["']?(?P<secret>[^\s"']+)`, valid: looksPassword},

		// Assignments in code, .env, YAML, JSON, XML, shell and prose. The
		// key names the kind; the value must look like a credential.
		{kind: "password", keywords: []string{"pass", "pwd", "pw", "masterauth", "requirepass"}, tight: true, anchored: true, around: keyedValue(looksPassword),
			expr: `(?i)(?P<key>` + passwordKey + `)(?:` + keySuffix + `(?:\s+for\s+(?:the\s+|my\s+|our\s+)?[\w@.-]+(?:\s+[\w@.-]+)?)?` + assign + value +
				`|\s+(?P<secret>[^\s"'` + "`" + `,;<>()\[\]{}]{6,}))`},
		{kind: "password", keywords: []string{"pass", "pwd"}, tight: true, valid: looksPassword,
			expr: `<(?i:[a-z_.-]*(?:password|passwd|pwd))>(?P<secret>[^<\s]+)</`},
		{kind: "password", keywords: []string{`password"`, `password'`, `passwd"`, `passwd'`, `pwd"`, `pwd'`}, valid: looksPassword,
			expr: `(?i:key|name)=["'](?i:[a-z_.-]*(?:password|passwd|pwd))["']\s+(?i:value)=["'](?P<secret>[^"'\s]+)["']` +
				`|(?i:key|name)=["'](?i:[a-z_.-]*(?:password|passwd|pwd))["'][^<>\n]*>(?P<secret>[^<\s]+)</`},
		// The key names ending in "key" that hold one: the match starts at
		// "key" (cheap to find), and keyPrefixed checks the word before it.
		{kind: "api-key", keywords: []string{"key"}, tight: true, anchored: true, around: keyPrefixed(keyedValue(looksSecret(8))),
			expr: `(?i)(?P<key>key)` + keySuffix + assign + value},
		{kind: "secret", keywords: []string{"secret", "token", "credential", "auth", "sig", "pat"}, tight: true, anchored: true, around: keyedValue(looksSecret(8)),
			expr: `(?i)(?P<key>secret|token|credentials?|auth|signature|pat)` + keySuffix + assign + value},
		{kind: "secret", keywords: []string{"secret", "token"}, tight: true, anchored: true, around: keyedValue(looksSecret(16)),
			expr: `(?i)\b(?P<key>secret|token)\s+(?P<secret>[A-Za-z0-9_+/=.-]{16,})`},
		{kind: "secret", keywords: []string{"--token", "--secret", "--api-key", "--apikey", "--client-secret", "--access-key", "--auth"},
			expr: `(?i)--(?:[a-z]+-)*(?:token|secret|api-?key|access-key|auth-key)[= ]["']?(?P<secret>[^\s"']{8,})`, valid: looksSecret(8)},
	}
}
