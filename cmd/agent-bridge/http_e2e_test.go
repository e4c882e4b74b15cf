package main

// End-to-end tests of serve --http: the built binary as bridge nodes,
// driven by mcp-go's Streamable HTTP client, against each store.

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// storeKind is where the nodes of one test keep their data: the flags that
// make every node of the test share it.
type storeKind struct {
	name string
	args []string
}

// postgresEnv names a postgres:// URL for the PostgreSQL runs.
const postgresEnv = "AGENT_BRIDGE_TEST_POSTGRES"

// eachStore runs test against a fresh SQLite file, and against PostgreSQL
// when AGENT_BRIDGE_TEST_POSTGRES is set. In CI (CI=true) a missing URL
// fails the test rather than skipping it, so the PostgreSQL runs cannot
// silently stop running.
func eachStore(t *testing.T, test func(t *testing.T, st storeKind)) {
	t.Run("sqlite", func(t *testing.T) { test(t, sqliteStore(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, postgresStore(t)) })
}

// benchStores is eachStore for benchmarks.
func benchStores(b *testing.B, bench func(b *testing.B, st storeKind)) {
	b.Run("store=sqlite", func(b *testing.B) { bench(b, sqliteStore(b)) })
	b.Run("store=postgres", func(b *testing.B) { bench(b, postgresStore(b)) })
}

func sqliteStore(t testing.TB) storeKind {
	return storeKind{"sqlite", []string{"--db", filepath.Join(t.TempDir(), "bridge.db")}}
}

func postgresStore(t testing.TB) storeKind {
	url := os.Getenv(postgresEnv)
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run the PostgreSQL end-to-end tests (start one with .ci/postgres start)", postgresEnv)
		}
		t.Skipf("%s is not set: set it to a postgres:// URL to run these against PostgreSQL too", postgresEnv)
	}
	// A database of its own: serve refuses a key that did not write a
	// database's existing trail, and every node of a PostgreSQL team shares
	// the key file, copied.
	url = freshPostgresDatabase(t, url)
	key := filepath.Join(t.TempDir(), "bridge.key")
	return storeKind{"postgres", []string{"--db", url, "--key-file", key}}
}

// node is one running agent-bridge serve --http process.
type node struct {
	t      testing.TB
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	exited chan error
}

var urlLine = regexp.MustCompile(`msg="serving MCP over HTTP" url=(\S+)`)

// startNode starts a node on a free loopback port with rate limits off and
// waits until it serves.
func startNode(t testing.TB, st storeKind, extra ...string) *node {
	t.Helper()
	home := t.TempDir()
	args := append([]string{"serve", "--http", "127.0.0.1:0", "--rate-per-minute", "0", "--rate-per-hour", "0", "--rate-per-day", "0", "--creates-per-hour", "0"}, st.args...)
	n := &node{t: t, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	n.cmd = exec.Command(binary, append(args, extra...)...)
	n.cmd.Env = baseEnv(home)
	n.cmd.Dir = home
	pr, pw := io.Pipe()
	n.cmd.Stderr = pw
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { err := n.cmd.Wait(); pw.Close(); n.exited <- err }()
	t.Cleanup(func() { n.cmd.Process.Kill() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			n.stderr.Write(append(sc.Bytes(), '\n'))
			if m := urlLine.FindSubmatch(sc.Bytes()); m != nil {
				select {
				case found <- string(m[1]):
				default:
				}
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatalf("node exited before serving; stderr:\n%s", n.stderr)
		}
		n.url = u
	case <-time.After(30 * time.Second):
		t.Fatalf("node did not start serving; stderr:\n%s", n.stderr)
	}
	return n
}

func (n *node) kill9() {
	n.cmd.Process.Kill()
	<-n.exited
}

// dial returns a client of the node as a proc, so the stdio tests' helpers
// (ok, call, create, bodies) work on it.
func (n *node) dial(opts ...transport.StreamableHTTPCOption) *proc {
	n.t.Helper()
	c, err := client.NewStreamableHttpClient(n.url, opts...)
	if err != nil {
		n.t.Fatal(err)
	}
	p := &proc{t: n.t, c: c, cmd: n.cmd, stderr: n.stderr}
	n.t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		n.t.Fatal(err)
	}
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	req.Params.ClientInfo = mcp.Implementation{Name: "e2e-http", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		n.t.Fatalf("initialize over HTTP: %v; stderr:\n%s", err, n.stderr)
	}
	return p
}

// Pairs of agents on two nodes sharing one store: senders on node 1, two
// receivers per pair (one on each node); every message arrives exactly
// once.
func TestHTTPTwoNodesExactlyOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, st storeKind) {
		const pairs, perPair = 5, 100
		n1, n2 := startNode(t, st), startNode(t, st)
		var wg sync.WaitGroup
		errs := make(chan error, pairs*3)
		got := make([]map[string]int, pairs)
		var mu sync.Mutex
		for pi := range pairs {
			got[pi] = map[string]int{}
			sender := n1.dial()
			a, b := create(sender)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perPair {
					res, err := sender.call("send_to_partner", a.args(map[string]any{"message": fmt.Sprintf("pair %d message %03d", pi, i)}))
					if err != nil || res.IsError {
						errs <- fmt.Errorf("send %d: %v %v", i, err, res)
						return
					}
				}
			}()
			for _, n := range []*node{n2, n1} {
				r := n.dial()
				wg.Add(1)
				go func() {
					defer wg.Done()
					for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
						mu.Lock()
						done := len(got[pi]) >= perPair
						mu.Unlock()
						if done {
							return
						}
						res, err := r.call("check_messages", b.args(map[string]any{"wait_seconds": 1}))
						if err != nil || res.IsError {
							errs <- fmt.Errorf("check: %v %v", err, res)
							return
						}
						out := structuredOf(t, res)
						mu.Lock()
						for _, m := range out["messages"].([]any) {
							got[pi][m.(map[string]any)["message"].(string)]++
						}
						mu.Unlock()
					}
					errs <- fmt.Errorf("pair %d: timed out", pi)
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for pi, m := range got {
			for body, k := range m {
				if k != 1 {
					t.Errorf("%q delivered %d times", body, k)
				}
			}
			if len(m) != perPair {
				t.Errorf("pair %d: %d of %d messages delivered", pi, len(m), perPair)
			}
		}
	})
}

// kill -9 of the sender's node mid-send, repeatedly: every acknowledged
// message arrives once, in order, through the other node.
func TestHTTPKill9LosesNothingAcknowledged(t *testing.T) {
	eachStore(t, func(t *testing.T, st storeKind) {
		reader := startNode(t, st)
		a, b := create(reader.dial())
		var s sender
		for round := range 4 {
			n := startNode(t, st)
			stop := s.start(n.dial(), a, round)
			// Kill after some sends were acknowledged, while others run.
			for deadline := time.Now().Add(20 * time.Second); s.count() < (round+1)*20 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			n.kill9()
			stop()
		}
		r := reader.dial()
		var got []string
		for {
			more := bodies(r, b)
			if len(more) == 0 {
				break
			}
			got = append(got, more...)
		}
		checkAcknowledged(t, s.acked, got)
		t.Logf("%d acknowledged sends over 4 kills, %d delivered", len(s.acked), len(got))
	})
}

// A check_messages wait on node 1 wakes for a send through node 2.
func TestHTTPWaitWakesAcrossNodes(t *testing.T) {
	eachStore(t, func(t *testing.T, st storeKind) {
		n1, n2 := startNode(t, st), startNode(t, st)
		waiter, sender := n1.dial(), n2.dial()
		a, b := create(sender)
		checkWaitWakes(t, waiter, sender, a, b)
	})
}

// SIGTERM ends a waiting call at once, the node exits cleanly, and the
// message sent afterwards through another node is still unread.
func TestHTTPGracefulShutdown(t *testing.T) {
	eachStore(t, func(t *testing.T, st storeKind) {
		n1, n2 := startNode(t, st), startNode(t, st)
		waiter, other := n1.dial(), n2.dial()
		a, b := create(other)
		got := make(chan *mcp.CallToolResult, 1)
		go func() {
			res, err := waiter.call("check_messages", b.args(map[string]any{"wait_seconds": 600}))
			if err != nil {
				res = mcp.NewToolResultError("protocol error: " + err.Error())
			}
			got <- res
		}()
		// The waiting call's first transaction is b's first heartbeat.
		for deadline := time.Now().Add(20 * time.Second); other.ok("check_partner_status", a.args(nil))["last_heartbeat"] == nil; {
			if time.Now().After(deadline) {
				t.Fatal("the waiting call never reached node 1")
			}
			time.Sleep(5 * time.Millisecond)
		}
		start := time.Now()
		n1.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case res := <-got:
			if !res.IsError || !strings.Contains(fmt.Sprint(res.Content), "shutting down; no message was marked read") {
				t.Fatalf("waiting call: %v", res.Content)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the waiting call did not end within 10s of SIGTERM")
		}
		select {
		case err := <-n1.exited:
			if err != nil {
				t.Fatalf("node exit: %v\n%s", err, n1.stderr)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("node did not exit")
		}
		t.Logf("shutdown took %s", time.Since(start).Round(time.Millisecond))
		if !strings.Contains(n1.stderr.String(), "stopped serving HTTP") {
			t.Errorf("no stop line in the log:\n%s", n1.stderr)
		}
		other.ok("send_to_partner", a.args(map[string]any{"message": "after shutdown"}))
		if got := bodies(other, b); len(got) != 1 || got[0] != "after shutdown" {
			t.Fatalf("after shutdown: %q", got)
		}
	})
}

// rawPost sends one initialize request with the given headers and body.
func rawPost(t *testing.T, c *http.Client, url string, body io.Reader, headers map[string]string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

const rawInit = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// The real binary refuses foreign origins, oversized bodies and missing or
// wrong bearer secrets, and never logs the secret.
func TestHTTPRefusals(t *testing.T) {
	const secret = "e2e-bearer-secret-0123456789abcdef"
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st := storeKind{"sqlite", []string{"--db", filepath.Join(dir, "b.db")}}
	n := startNode(t, st, "--http-token-file", tokenFile, "--http-max-body", "4096", "--http-allow-origin", "https://ok.example,https://also.example")
	auth := map[string]string{"Authorization": "Bearer " + secret}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{"Authorization": "Bearer " + secret}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	c := http.DefaultClient
	for _, tc := range []struct {
		name    string
		body    string
		headers map[string]string
		status  int
		want    string
	}{
		{"authorized", rawInit, auth, 200, `"protocolVersion"`},
		{"no bearer", rawInit, nil, 401, "Authorization: Bearer"},
		{"wrong bearer", rawInit, map[string]string{"Authorization": "Bearer nope-" + secret}, 401, "Authorization: Bearer"},
		{"foreign origin", rawInit, with(map[string]string{"Origin": "https://evil.example"}), 403, "--http-allow-origin"},
		{"allowed origin", rawInit, with(map[string]string{"Origin": "https://also.example"}), 200, `"protocolVersion"`},
		{"oversized body", rawInit + strings.Repeat(" ", 5000), auth, 413, "limit is 4096 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := rawPost(t, c, n.url, strings.NewReader(tc.body), tc.headers)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("status %d body %q; want %d with %q", status, body, tc.status, tc.want)
			}
			if status == 401 && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("401 without WWW-Authenticate: %v", hdr)
			}
		})
	}
	p := n.dial(transport.WithHTTPHeaders(auth))
	create(p)
	if strings.Contains(n.stderr.String(), secret) || strings.Contains(n.stderr.String(), secret[:12]) {
		t.Fatal("the bearer secret reached the log")
	}

	t.Run("flag errors", func(t *testing.T) {
		open := filepath.Join(dir, "open-token")
		os.WriteFile(open, []byte(secret), 0o644)
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"--http-token-file", open}, 1, "chmod 600"},
			{[]string{"--tls-cert", "c.pem"}, 2, "--tls-cert and --tls-key go together"},
			{[]string{"--http-allow-origin", "ok.example"}, 2, "scheme://host"},
			{[]string{"--http-max-body", "10"}, 2, "at least 1024"},
		} {
			args := append([]string{"serve", "--db", filepath.Join(dir, "b.db"), "--http", "127.0.0.1:0"}, tc.args...)
			_, stderr, code := runCLI(t, dir, args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, secret) {
				t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
			}
		}
		if _, stderr, code := runCLI(t, dir, "serve", "--tls-cert", "c", "--tls-key", "k"); code != 2 || !strings.Contains(stderr, "need --http") {
			t.Errorf("TLS without --http: %d %q", code, stderr)
		}
	})
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// a pool trusting it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "agent-bridge test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestHTTPTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	st := storeKind{"sqlite", []string{"--db", filepath.Join(dir, "b.db")}}
	n := startNode(t, st, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(n.url, "https://") {
		t.Fatalf("TLS node announces %s", n.url)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	p := n.dial(transport.WithHTTPBasicClient(hc))
	a, b := create(p)
	p.ok("send_to_partner", a.args(map[string]any{"message": "over TLS"}))
	if got := bodies(p, b); len(got) != 1 || got[0] != "over TLS" {
		t.Fatalf("over TLS: %q", got)
	}
	// A client that does not trust the certificate is refused by TLS.
	if _, err := http.Post(n.url, "application/json", strings.NewReader(rawInit)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted client: %v", err)
	}
	// Plain HTTP to the TLS port gets no MCP answer.
	plain := strings.Replace(n.url, "https://", "http://", 1)
	if status, _, _ := rawPost(t, http.DefaultClient, plain, strings.NewReader(rawInit), nil); status == 200 {
		t.Fatal("plain HTTP served on the TLS port")
	}
}

func structuredOf(t testing.TB, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	raw := res.RawStructuredContent
	if len(raw) == 0 {
		raw, _ = json.Marshal(res.StructuredContent)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// freshPostgresDatabase creates an empty database on the server at base
// for one test, dropped when it ends, and returns its URL.
func freshPostgresDatabase(t testing.TB, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", postgresEnv, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "agent_bridge_e2e_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(context.Background(), base)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	if _, err := admin.Exec(context.Background(), "CREATE DATABASE "+name); err != nil {
		admin.Close(context.Background())
		t.Fatalf("create a test database (the role in %s needs CREATEDB): %v", postgresEnv, err)
	}
	t.Cleanup(func() {
		defer admin.Close(context.Background())
		if _, err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// DELETE /mcp on one node ends the MCP session on every node sharing the
// store, and on a node started after it (issue 13 item 11); a node that is
// killed and restarted still refuses it.
func TestHTTPSessionEndsOnEveryNode(t *testing.T) {
	eachStore(t, func(t *testing.T, st storeKind) {
		n1, n2 := startNode(t, st), startNode(t, st)
		c := &http.Client{Timeout: 20 * time.Second}
		code, h, _ := rawPost(t, c, n1.url, strings.NewReader(rawInit), nil)
		sid := h.Get("Mcp-Session-Id")
		if code != http.StatusOK || sid == "" {
			t.Fatalf("initialize: %d", code)
		}
		ping := func(n *node) int {
			t.Helper()
			code, _, _ := rawPost(t, c, n.url, strings.NewReader(`{"jsonrpc":"2.0","id":2,"method":"ping"}`),
				map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-06-18"})
			return code
		}
		if got := ping(n2); got != http.StatusOK {
			t.Fatalf("the other node before DELETE: %d", got)
		}
		req, _ := http.NewRequest(http.MethodDelete, n1.url, nil)
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("DELETE: %d", res.StatusCode)
		}
		if got := ping(n2); got != http.StatusNotFound {
			t.Fatalf("the other node after DELETE: %d, want 404", got)
		}
		n1.kill9()
		if got := ping(startNode(t, st)); got != http.StatusNotFound {
			t.Fatalf("a node started after the DELETE: %d, want 404", got)
		}
	})
}
