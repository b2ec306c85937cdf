package fence

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// client is an HTTPS client of the endpoint with the given TLS
// configuration.
func client(cfg *tls.Config) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

func caPool(t *testing.T, p *PKI) *x509.CertPool {
	t.Helper()
	pool, err := p.caPool()
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

func post(c *http.Client, url string) (*http.Response, error) {
	return c.Post(url, "", nil)
}

// handshakeRefused: the log holds a refused handshake whose reason
// contains why, and the provider was never asked anything.
func (e *testEndpoint) handshakeRefused(t *testing.T, why string) {
	t.Helper()
	// net/http logs the handshake error after the client saw it fail.
	deadline := time.Now().Add(3 * time.Second)
	for {
		for _, en := range e.entries(t) {
			if en.Event == "handshake" && strings.HasPrefix(en.Result, "refused: ") && strings.Contains(en.Result, why) && en.Remote != "" {
				if calls := e.fake.Calls(); len(calls) > 0 {
					t.Errorf("the provider was asked %v", calls)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no refused handshake (%q) in the log: %+v", why, e.entries(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A client without a certificate is refused in the TLS handshake.
func TestRefusesClientWithoutCertificate(t *testing.T) {
	e := startEndpoint(t)
	c := client(&tls.Config{RootCAs: caPool(t, e.pki), MinVersion: tls.VersionTLS12})
	_, err := post(c, "https://"+e.addr+"/v"+APIVersion+"/containers/halab-node2/kill")
	if err == nil {
		t.Fatal("a client without a certificate killed a machine")
	}
	if !e.fake.IsOn("node2") {
		t.Fatal("node2 was powered off")
	}
	e.handshakeRefused(t, "client didn't provide a certificate")
}

// A certificate of another lab's CA (another lab on this host, with its
// own endpoint and nodes) is refused, and a client of this lab does not
// trust another lab's endpoint either.
func TestRefusesCertificateOfAnotherLab(t *testing.T) {
	e := startEndpoint(t)
	other := &PKI{Dir: t.TempDir() + "/fence", Lab: "other"}
	// The same node names, the same address: only the CA differs.
	if err := other.Ensure([]string{"node1", "node2"}, loopback); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(other.ClientCert("node1"), other.ClientKey("node1"))
	if err != nil {
		t.Fatal(err)
	}
	// Presented whatever CAs the endpoint says it accepts (Go's client would
	// otherwise send none; curl sends it).
	c := client(&tls.Config{RootCAs: caPool(t, e.pki), MinVersion: tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }})
	if _, err := post(c, "https://"+e.addr+"/v"+APIVersion+"/containers/halab-node2/kill"); err == nil {
		t.Fatal("a certificate of another lab killed a machine")
	}
	if !e.fake.IsOn("node2") {
		t.Fatal("node2 was powered off")
	}
	e.handshakeRefused(t, "certificate signed by unknown authority")

	// This lab's node, pointed at the other lab's CA, does not trust this
	// endpoint: a node never talks to an endpoint that is not its lab's.
	own, err := tls.LoadX509KeyPair(e.pki.ClientCert("node1"), e.pki.ClientKey("node1"))
	if err != nil {
		t.Fatal(err)
	}
	c = client(&tls.Config{RootCAs: caPool(t, other), Certificates: []tls.Certificate{own}, MinVersion: tls.VersionTLS12})
	_, err = c.Get("https://" + e.addr + "/_ping")
	if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("a node trusted an endpoint of another lab's CA: %v", err)
	}
}

// A certificate of this lab's CA that names no node of the lab (a node
// removed from lab.yaml, say) is refused at the HTTP layer.
func TestRefusesCertificateOfNoNode(t *testing.T) {
	e := startEndpoint(t, "node3")
	pair, err := tls.LoadX509KeyPair(e.pki.ClientCert("node3"), e.pki.ClientKey("node3"))
	if err != nil {
		t.Fatal(err)
	}
	c := client(&tls.Config{RootCAs: caPool(t, e.pki), Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	resp, err := post(c, "https://"+e.addr+"/v"+APIVersion+"/containers/halab-node2/kill")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !e.fake.IsOn("node2") {
		t.Fatalf("node3's certificate: HTTP %d, node2 on: %v", resp.StatusCode, e.fake.IsOn("node2"))
	}
	last := e.entries(t)[len(e.entries(t))-1]
	if !strings.Contains(last.Result, "refused: CN=node3,OU=node,O=halab lab halab is not a client of lab halab") {
		t.Errorf("logged %+v", last)
	}
}

// A machine outside the lab does not exist for a node: another lab's
// container, a node name instead of a machine name, the host's other
// containers, a container id, path tricks. Each is Docker's 404, logged as
// refused, and the provider is never asked about it.
func TestRefusesMachineOutsideTheLab(t *testing.T) {
	e := startEndpoint(t)
	pair, err := tls.LoadX509KeyPair(e.pki.ClientCert("node1"), e.pki.ClientKey("node1"))
	if err != nil {
		t.Fatal(err)
	}
	c := client(&tls.Config{RootCAs: caPool(t, e.pki), Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	base := "https://" + e.addr + "/v" + APIVersion + "/containers/"
	for _, target := range []string{"other-node1", "node2", "halab-node3", "postgres", "4f2a9c1b7d3e", "halab-node2x", "HALAB-NODE2", "halab-node2%2Fkill"} {
		for _, op := range []string{"json", "kill", "start", "restart"} {
			var resp *http.Response
			if op == "json" {
				resp, err = c.Get(base + target + "/json")
			} else {
				resp, err = post(c, base+target+"/"+op)
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var msg apiError
			json.Unmarshal(b, &msg)
			if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(msg.Message, "No such container") && msg.Message != "page not found" {
				t.Errorf("%s %s: HTTP %d %s", op, target, resp.StatusCode, b)
			}
		}
	}
	for _, p := range []string{"/v" + APIVersion + "/containers/halab-node2/../halab-node1/kill", "/v" + APIVersion + "/containers/create", "/v" + APIVersion + "/containers/halab-node2/exec", "/v" + APIVersion + "/images/json", "/containers/halab-node2"} {
		resp, err := post(c, "https://"+e.addr+p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("POST %s: HTTP %d", p, resp.StatusCode)
		}
	}
	if !e.fake.IsOn("node1") || !e.fake.IsOn("node2") {
		t.Fatal("a lab machine was powered off")
	}
	for _, call := range e.fake.Calls() {
		t.Errorf("the provider was asked %q", call)
	}
	n := 0
	for _, en := range e.entries(t) {
		if en.Event == "request" && strings.Contains(en.Result, "is not a machine of lab halab") {
			n++
			if !strings.Contains(en.Client, "CN=node1") {
				t.Errorf("entry without the client: %+v", en)
			}
		}
	}
	if n < 28 {
		t.Errorf("%d refusals logged, want one per request", n)
	}
	// The list holds the lab's machines only.
	resp, err := c.Get(base + "json?all=1")
	if err != nil {
		t.Fatal(err)
	}
	var list []struct{ Names []string }
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list) != 2 || list[0].Names[0] != "/halab-node1" || list[1].Names[0] != "/halab-node2" {
		t.Errorf("list = %+v", list)
	}
}

// The endpoint's files: the directory 0700, every key 0600, certificates
// that chain to the lab's CA with the right subjects and uses; Ensure
// changes nothing that is right, and re-issues the server certificate
// when the address changes.
func TestPKIFiles(t *testing.T) {
	dir := t.TempDir() + "/fence"
	p := &PKI{Dir: dir, Lab: "halab"}
	if err := p.Ensure([]string{"node1", "node2"}, loopback); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("fence directory mode %v (%v), want 0700", st.Mode().Perm(), err)
	}
	keys, err := p.KeyFiles()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 5 { // ca, server, host, node1, node2
		t.Fatalf("keys %v", keys)
	}
	for _, k := range keys {
		st, err := os.Stat(k)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v (%v), want 0600", k, st.Mode().Perm(), err)
		}
		b, _ := os.ReadFile(k)
		if !strings.HasPrefix(string(b), "-----BEGIN EC PRIVATE KEY-----") {
			t.Errorf("%s is not a SEC 1 EC key", k)
		}
	}
	snapshot := func() map[string]string {
		m := map[string]string{}
		entries, _ := os.ReadDir(dir)
		for _, en := range entries {
			b, _ := os.ReadFile(dir + "/" + en.Name())
			m[en.Name()] = string(b)
		}
		return m
	}
	before := snapshot()
	// A widened key is put back to 0600.
	os.Chmod(p.ClientKey("node1"), 0o644)
	if err := p.Ensure([]string{"node1", "node2"}, loopback); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p.ClientKey("node1")); st.Mode().Perm() != 0o600 {
		t.Errorf("node1's key left %v", st.Mode().Perm())
	}
	after := snapshot()
	for name, b := range before {
		if after[name] != b {
			t.Errorf("second Ensure changed %s", name)
		}
	}

	pool := caPool(t, p)
	check := func(certFile string, usage x509.ExtKeyUsage, cn, ou string) *x509.Certificate {
		t.Helper()
		pair, err := tls.LoadX509KeyPair(certFile, strings.TrimSuffix(certFile, ".crt")+".key")
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(pair.Certificate[0])
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("%s: %v", certFile, err)
		}
		if c.Subject.CommonName != cn || (ou != "" && (len(c.Subject.OrganizationalUnit) != 1 || c.Subject.OrganizationalUnit[0] != ou)) {
			t.Errorf("%s: subject %s", certFile, c.Subject)
		}
		return c
	}
	srv := check(p.ServerCert(), x509.ExtKeyUsageServerAuth, "halab fence endpoint halab", "")
	if srv.VerifyHostname("127.0.0.1") != nil {
		t.Error("server certificate not valid for 127.0.0.1")
	}
	check(p.ClientCert("node1"), x509.ExtKeyUsageClientAuth, "node1", "node")
	check(p.ClientCert("node2"), x509.ExtKeyUsageClientAuth, "node2", "node")
	check(p.HostCert(), x509.ExtKeyUsageClientAuth, HostClient, "host")
	// A client certificate does not serve, a server certificate is no client.
	cl, _ := tls.LoadX509KeyPair(p.ClientCert("node1"), p.ClientKey("node1"))
	c1, _ := x509.ParseCertificate(cl.Certificate[0])
	if _, err := c1.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("a node's client certificate is valid as a server's")
	}

	// Another address: only the server certificate is re-issued.
	gw := loopback.Next()
	if err := p.Ensure([]string{"node1", "node2"}, gw); err != nil {
		t.Fatal(err)
	}
	moved := snapshot()
	for name, b := range after {
		changed := moved[name] != b
		if want := name == "server.crt" || name == "server.key"; changed != want {
			t.Errorf("address change: %s changed=%v", name, changed)
		}
	}
	srv = check(p.ServerCert(), x509.ExtKeyUsageServerAuth, "halab fence endpoint halab", "")
	if srv.VerifyHostname(gw.String()) != nil {
		t.Errorf("server certificate not valid for %s", gw)
	}

	// A node's files for provisioning: the CA, its own certificate and key.
	ca, cert, key, err := p.NodeFiles("node2")
	if err != nil {
		t.Fatal(err)
	}
	if string(ca) != moved["ca.crt"] || string(cert) != moved["client-node2.crt"] || string(key) != moved["client-node2.key"] {
		t.Error("NodeFiles returned other files")
	}
	if _, _, _, err := p.NodeFiles("node9"); err == nil {
		t.Error("NodeFiles of an unknown node succeeded")
	}
}

// A TCP port open on the lab's host address is reported; closed ones are
// not.
func TestExposedEngine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := ln.Addr().(*net.TCPAddr).Port
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln2.Addr().(*net.TCPAddr).Port
	ln2.Close()
	defer ln.Close()
	got := ExposedEngine(loopback, []int{closed, open})
	if len(got) != 1 || got[0] != ln.Addr().String() {
		t.Errorf("ExposedEngine = %v, want [%s]", got, ln.Addr())
	}
}
