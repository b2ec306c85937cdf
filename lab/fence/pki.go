// Package fence is the lab's fence endpoint: a host process that speaks the
// subset of the Docker Engine API that fence_docker uses (version, container
// list and inspect, kill, start, restart) over mutual TLS, accepts only the
// lab's own machines, and maps kill and start to the lab provider's power-off
// and power-on. The nodes' fence agents talk to it; the Docker socket (or
// VBoxManage) stays on the host, out of every node's reach.
package fence

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"halab/lab"
)

// The client kinds a certificate's OU names: a node's fence agent, or halab
// itself on the host (status checks).
const (
	ouNode = "node"
	ouHost = "host"
	// HostClient is the CN of halab's own client certificate.
	HostClient = "halab"
)

// Validity of the lab's certificates. A lab lives for days; the margin
// covers a host whose clock runs ahead of a VM's.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 5 * 365 * 24 * time.Hour
	clockSkew    = time.Hour
	renewBefore  = 30 * 24 * time.Hour
)

// PKI is a lab's certificate authority and the certificates it issued,
// kept in Dir (the lab's state directory's fence/, 0700): the CA, the
// endpoint's server certificate, one client certificate per node and one
// for halab on the host. Keys are ECDSA P-256, 0600, and never leave Dir
// except a node's own client key, which provisioning pushes to that node.
type PKI struct {
	Dir string
	// Lab names the lab in the certificates' subjects.
	Lab string
}

// Dir is the fence endpoint's directory in a lab's state directory.
func Dir(state string) string { return filepath.Join(state, "fence") }

func (p *PKI) path(name string) string { return filepath.Join(p.Dir, name) }

// CACert is the CA certificate (PEM): the nodes verify the endpoint with it.
func (p *PKI) CACert() string { return p.path("ca.crt") }

// ServerCert and ServerKey are the endpoint's.
func (p *PKI) ServerCert() string { return p.path("server.crt") }
func (p *PKI) ServerKey() string  { return p.path("server.key") }

// ClientCert and ClientKey are a node's client certificate and key.
func (p *PKI) ClientCert(node string) string { return p.path("client-" + node + ".crt") }
func (p *PKI) ClientKey(node string) string  { return p.path("client-" + node + ".key") }

// HostCert and HostKey are halab's own client certificate and key.
func (p *PKI) HostCert() string { return p.path("host.crt") }
func (p *PKI) HostKey() string  { return p.path("host.key") }

func (p *PKI) caKey() string { return p.path("ca.key") }

// KeyFiles are every private key in Dir: what must stay 0600 and never
// show in output, logs or artifacts.
func (p *PKI) KeyFiles() ([]string, error) {
	m, err := filepath.Glob(filepath.Join(p.Dir, "*.key"))
	if err != nil {
		return nil, err
	}
	slices.Sort(m)
	return m, nil
}

// Ensure makes what is missing: the CA once, then a server certificate
// valid for addrs (re-issued when it does not cover them, is not the CA's,
// or nears its end), and a client certificate for each node and for halab.
// It changes nothing that is already right, so nodes keep their files.
func (p *PKI) Ensure(nodes []string, addrs ...netip.Addr) error {
	if err := lab.EnsureStateDir(p.Dir); err != nil {
		return err
	}
	ca, caKey, err := p.ensureCA()
	if err != nil {
		return err
	}
	if !p.leafOK(p.ServerCert(), p.ServerKey(), ca, x509.ExtKeyUsageServerAuth, func(c *x509.Certificate) bool {
		for _, a := range addrs {
			if c.VerifyHostname(a.String()) != nil {
				return false
			}
		}
		return true
	}) {
		tmpl := leafTemplate(pkix.Name{Organization: []string{"halab lab " + p.Lab}, CommonName: "halab fence endpoint " + p.Lab}, x509.ExtKeyUsageServerAuth)
		for _, a := range addrs {
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(a.AsSlice()))
		}
		if err := p.issue(tmpl, ca, caKey, p.ServerCert(), p.ServerKey()); err != nil {
			return err
		}
	}
	clients := []struct{ cn, ou, cert, key string }{{HostClient, ouHost, p.HostCert(), p.HostKey()}}
	for _, n := range nodes {
		clients = append(clients, struct{ cn, ou, cert, key string }{n, ouNode, p.ClientCert(n), p.ClientKey(n)})
	}
	for _, c := range clients {
		if p.leafOK(c.cert, c.key, ca, x509.ExtKeyUsageClientAuth, func(x *x509.Certificate) bool {
			return x.Subject.CommonName == c.cn && slices.Equal(x.Subject.OrganizationalUnit, []string{c.ou})
		}) {
			continue
		}
		tmpl := leafTemplate(pkix.Name{Organization: []string{"halab lab " + p.Lab}, OrganizationalUnit: []string{c.ou}, CommonName: c.cn}, x509.ExtKeyUsageClientAuth)
		if err := p.issue(tmpl, ca, caKey, c.cert, c.key); err != nil {
			return err
		}
	}
	return p.tighten()
}

// tighten puts every key back to 0600, should anything have widened it.
func (p *PKI) tighten() error {
	keys, err := p.KeyFiles()
	if err != nil {
		return err
	}
	for _, k := range keys {
		if st, err := os.Stat(k); err == nil && st.Mode().Perm() != 0o600 {
			if err := os.Chmod(k, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *PKI) ensureCA() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cert, key, err := loadPair(p.CACert(), p.caKey())
	if err == nil && cert.IsCA && time.Until(cert.NotAfter) > renewBefore {
		return cert, key, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("fence CA in %s: %w (delete %s to make a new CA, then re-provision every node)", p.Dir, err, p.Dir)
	}
	key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"halab lab " + p.Lab}, CommonName: "halab fence CA " + p.Lab},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	// Key first: a CA certificate without its key would be unusable.
	if err := writeKey(p.caKey(), key); err != nil {
		return nil, nil, err
	}
	if err := lab.WriteFileAtomic(p.CACert(), pemCert(der), 0o644); err != nil {
		return nil, nil, err
	}
	// Every certificate of the old CA is void.
	for _, f := range []string{p.ServerCert(), p.HostCert()} {
		os.Remove(f)
	}
	if m, _ := filepath.Glob(p.path("client-*.crt")); m != nil {
		for _, f := range m {
			os.Remove(f)
		}
	}
	cert, err = x509.ParseCertificate(der)
	return cert, key, err
}

func leafTemplate(subject pkix.Name, usage x509.ExtKeyUsage) *x509.Certificate {
	now := time.Now()
	return &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               subject,
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(leafValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{usage},
		BasicConstraintsValid: true,
	}
}

// leafOK: the pair exists, matches, was issued by ca for usage, is not near
// its end, and passes want.
func (p *PKI) leafOK(certFile, keyFile string, ca *x509.Certificate, usage x509.ExtKeyUsage, want func(*x509.Certificate) bool) bool {
	cert, _, err := loadPair(certFile, keyFile)
	if err != nil || time.Until(cert.NotAfter) < renewBefore {
		return false
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return false
	}
	return want(cert)
}

func (p *PKI) issue(tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey, certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := writeKey(keyFile, key); err != nil {
		return err
	}
	return lab.WriteFileAtomic(certFile, pemCert(der), 0o644)
}

// serial is a random 127-bit serial number, as RFC 5280 allows.
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// writeKey writes a key as SEC 1 "EC PRIVATE KEY" PEM, the form every
// OpenSSL a node may have (Ubuntu 12.04's 1.0.1 included) reads, 0600.
func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return lab.WriteFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}

func loadPair(certFile, keyFile string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, nil, err
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("%s: not an ECDSA key", keyFile)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func (p *PKI) caPool() (*x509.CertPool, error) {
	b, err := os.ReadFile(p.CACert())
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no certificate in it", p.CACert())
	}
	return pool, nil
}

// ServerTLS is the endpoint's TLS configuration: its certificate, and a
// client certificate issued by this lab's CA required of every client
// (TLS 1.2 or later, which fence_docker's libcurl and Ubuntu 12.04's curl
// both speak).
func (p *PKI) ServerTLS() (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(p.ServerCert(), p.ServerKey())
	if err != nil {
		return nil, fmt.Errorf("fence endpoint certificate: %w (halab up or halab provision makes it)", err)
	}
	pool, err := p.caPool()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// ClientTLS is a client's TLS configuration from a certificate and key
// issued by this lab's CA: halab's own (HostCert, HostKey) for status
// checks, or a node's in tests.
func (p *PKI) ClientTLS(certFile, keyFile string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	pool, err := p.caPool()
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// NodeFiles are what a node needs to reach the endpoint: the CA
// certificate, its client certificate and its client key (PEM), for
// provisioning to push (the key 0400 root).
func (p *PKI) NodeFiles(node string) (ca, cert, key []byte, err error) {
	if ca, err = os.ReadFile(p.CACert()); err != nil {
		return nil, nil, nil, err
	}
	if cert, err = os.ReadFile(p.ClientCert(node)); err != nil {
		return nil, nil, nil, err
	}
	if key, err = os.ReadFile(p.ClientKey(node)); err != nil {
		return nil, nil, nil, err
	}
	return ca, cert, key, nil
}

// SecretValues are the byte strings that must never appear in output,
// logs or artifacts: every private key in Dir, as PEM and as its DER body.
// A lab without a PKI has none.
func (p *PKI) SecretValues() ([][]byte, error) {
	keys, err := p.KeyFiles()
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, k := range keys {
		b, err := os.ReadFile(k)
		if err != nil {
			return nil, err
		}
		out = append(out, bytes.TrimSpace(b))
		if blk, _ := pem.Decode(b); blk != nil {
			out = append(out, blk.Bytes)
			// The PEM body's base64 lines, each long enough to be unique.
			for _, l := range strings.Split(string(b), "\n") {
				if len(l) >= 32 && !strings.HasPrefix(l, "-----") {
					out = append(out, []byte(l))
				}
			}
		}
	}
	return out, nil
}

// Subject describes a client certificate for the request log: subject and
// serial, never key material.
func Subject(c *x509.Certificate) (subject, serial string) {
	return c.Subject.String(), c.SerialNumber.Text(16)
}
