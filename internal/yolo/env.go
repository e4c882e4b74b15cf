package yolo

import (
	"os"
	"regexp"
	"strings"
)

// keptEnv are the variables ScrubbedEnv passes through: what programs need
// to find tools, locale and caches, and nothing that usually carries a
// credential.
var keptEnv = map[string]bool{
	"PATH": true, "HOME": true, "USER": true, "LOGNAME": true, "SHELL": true,
	"LANG": true, "LANGUAGE": true, "TZ": true, "TMPDIR": true, "TERM": true,
	"GOPATH": true, "GOCACHE": true, "GOMODCACHE": true, "GOFLAGS": true, "GOROOT": true,
	"GOTOOLCHAIN": true, "GOPROXY": true, "GONOSUMDB": true, "GOPRIVATE": true, "GONOPROXY": true,
	"CGO_ENABLED": true, "CARGO_HOME": true, "RUSTUP_HOME": true, "JAVA_HOME": true,
	"NODE_PATH": true, "PYTHONPATH": true, "VIRTUAL_ENV": true,
}

// secretish are name fragments that are never passed, even when a kept name
// or prefix would match (a LC_ or GO variable named like a credential).
var secretish = []string{"TOKEN", "SECRET", "KEY", "PASSWORD", "PASSWD", "PASS", "CREDENTIAL", "AUTH", "COOKIE", "SESSION", "PRIVATE", "CERT"}

// ScrubbedEnv returns the environment commands get by default: from this
// process's environment only PATH, HOME, USER, LOGNAME, SHELL, LANG,
// LANGUAGE, LC_*, TZ, TMPDIR, TERM, the Go variables GOPATH, GOCACHE,
// GOMODCACHE, GOFLAGS, GOROOT, GOTOOLCHAIN, GOPROXY, GOPRIVATE, GONOPROXY,
// GONOSUMDB, CGO_ENABLED, and CARGO_HOME, RUSTUP_HOME, JAVA_HOME, NODE_PATH,
// PYTHONPATH, VIRTUAL_ENV; never a name containing TOKEN, SECRET, KEY,
// PASSWORD, PASS, CREDENTIAL, AUTH, COOKIE, SESSION, PRIVATE or CERT
// (GOPRIVATE is the one exception: it names module paths), no value that
// holds a URL with credentials (GOPROXY=https://user:pass@host), and nothing
// else (so no AWS_*, GITHUB_*, SSH_AUTH_SOCK, proxies with passwords,
// BASH_ENV or LD_PRELOAD). It adds GOTOOLCHAIN=local when GOTOOLCHAIN is unset, so
// a go.mod cannot make go download and run another toolchain, and
// GIT_CONFIG_NOSYSTEM=1, GIT_TERMINAL_PROMPT=0 and GIT_OPTIONAL_LOCKS=0 so
// git reads no system config, never prompts and "git status" does not
// rewrite the index.
func ScrubbedEnv() []string {
	var env []string
	seenToolchain := false
	for _, kv := range os.Environ() {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !keepVar(name) || urlCredentials.MatchString(value) {
			continue
		}
		if name == "GOTOOLCHAIN" {
			seenToolchain = true
		}
		env = append(env, kv)
	}
	if !seenToolchain {
		env = append(env, "GOTOOLCHAIN=local")
	}
	return append(env, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0")
}

// urlCredentials matches a URL with a user (and usually a password) in
// it, as in GOPROXY=https://user:token@proxy.example: a kept variable
// carrying one is dropped.
var urlCredentials = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s,|]*@`)

func keepVar(name string) bool {
	if name == "GOPRIVATE" {
		return true
	}
	up := strings.ToUpper(name)
	for _, s := range secretish {
		if strings.Contains(up, s) {
			return false
		}
	}
	return keptEnv[name] || strings.HasPrefix(name, "LC_")
}
