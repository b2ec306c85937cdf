package provision

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"halab/lab/fence"
)

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRedactEveryForm(t *testing.T) {
	for _, size := range []int{8, 20, 32, 256} {
		secret := randomBytes(t, size)
		secrets := [][]byte{randomBytes(t, 16), secret}
		encodings := map[string]string{
			"raw":       string(secret),
			"hex":       hex.EncodeToString(secret),
			"HEX":       strings.ToUpper(hex.EncodeToString(secret)),
			"base64":    base64.StdEncoding.EncodeToString(secret),
			"rawbase64": base64.RawStdEncoding.EncodeToString(secret),
			"base64url": base64.URLEncoding.EncodeToString(secret),
		}
		for name, enc := range encodings {
			in := []byte("before " + enc + " after\n")
			if got := FindSecrets(in, secrets); len(got) != 1 || !strings.HasPrefix(got[0], "secret 2 ") {
				t.Errorf("size %d, %s: FindSecrets = %v, want secret 2", size, name, got)
			}
			out := Redact(in, secrets)
			if len(FindSecrets(out, secrets)) != 0 {
				t.Errorf("size %d, %s: secret left after Redact: %q", size, name, out)
			}
			if !bytes.HasPrefix(out, []byte("before ")) || !bytes.Contains(out, []byte(Redacted)) || !bytes.HasSuffix(out, []byte(" after\n")) {
				t.Errorf("size %d, %s: Redact mangled the text around the secret: %q", size, name, out)
			}
		}
	}
}

// A secret inside a larger blob that was base64-encoded as a whole (a
// tarball of the state directory, say) is found at every alignment.
func TestFindSecretInsideBase64Blob(t *testing.T) {
	secret := randomBytes(t, 32)
	for pad := 0; pad < 6; pad++ {
		blob := append(append(randomBytes(t, 40+pad), secret...), randomBytes(t, 40)...)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			text := []byte("artifact: " + enc.EncodeToString(blob))
			if got := FindSecrets(text, [][]byte{secret}); len(got) != 1 {
				t.Errorf("prefix %d bytes: secret inside a base64 blob not found", 40+pad)
			}
			if len(FindSecrets(Redact(text, [][]byte{secret}), [][]byte{secret})) != 0 {
				t.Errorf("prefix %d bytes: Redact left the secret in the blob", 40+pad)
			}
		}
	}
}

func TestRedactLeavesOtherTextAlone(t *testing.T) {
	secrets := [][]byte{randomBytes(t, 32), randomBytes(t, 256), []byte("short")}
	in := []byte("==> provisioned stack corosync in 41s: 12 step(s) changed\nshort words stay\n")
	if out := Redact(in, secrets); !bytes.Equal(out, in) {
		t.Errorf("Redact changed text without secrets:\n%s", out)
	}
	if got := FindSecrets(in, secrets); len(got) != 0 {
		t.Errorf("FindSecrets false positive: %v", got)
	}
}

// The secrets on the host: 0600 files in a 0700 state directory, stable
// across runs, and what ReadSecretValues returns covers both as they are
// written to the nodes.
func TestSecretsOnTheHost(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if vals, err := ReadSecretValues(dir); err != nil || len(vals) != 0 {
		t.Fatalf("no state yet: ReadSecretValues = %d values, %v", len(vals), err)
	}
	s, err := LoadSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %v (%v), want 0700", st.Mode().Perm(), err)
	}
	for name, size := range map[string]int64{"authkeys.secret": 32, "corosync.authkey": 256} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 || st.Size() != size {
			t.Errorf("%s: mode %v size %d, want 0600 and %d bytes", name, st.Mode().Perm(), st.Size(), size)
		}
	}
	// A secret file loosened by hand is tightened again.
	os.Chmod(filepath.Join(dir, "corosync.authkey"), 0o644)
	s2, err := LoadSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "corosync.authkey")); st.Mode().Perm() != 0o600 {
		t.Errorf("loosened secret left at %v", st.Mode().Perm())
	}
	if s2.HeartbeatKey != s.HeartbeatKey || !bytes.Equal(s2.CorosyncKey, s.CorosyncKey) {
		t.Errorf("secrets changed between runs")
	}
	vals, err := ReadSecretValues(dir)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := os.ReadFile(filepath.Join(dir, "authkeys.secret"))
	if err != nil {
		t.Fatal(err)
	}
	authkeys := []byte("auth 1\n1 sha1 " + s.HeartbeatKey + "\n")
	for what, b := range map[string][]byte{"authkeys as on the node": authkeys, "raw heartbeat key": keys, "corosync authkey": s.CorosyncKey} {
		if len(FindSecrets(b, vals)) == 0 {
			t.Errorf("%s not recognised as a secret", what)
		}
	}
	// Another lab's secrets are its own.
	other, err := LoadSecrets(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	if other.HeartbeatKey == s.HeartbeatKey || bytes.Equal(other.CorosyncKey, s.CorosyncKey) {
		t.Errorf("two labs got the same secrets")
	}
}

func TestScanForSecrets(t *testing.T) {
	dir := t.TempDir()
	s, err := LoadSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	vals := s.Values()
	os.WriteFile(filepath.Join(dir, "known_hosts"), []byte("node1.abc ssh-ed25519 AAAA\n"), 0o600)
	os.MkdirAll(filepath.Join(dir, "logs"), 0o700)
	os.WriteFile(filepath.Join(dir, "logs", "clean.log"), []byte("all fine\n"), 0o600)
	found, err := ScanForSecrets(dir, vals, nil)
	if err != nil || len(found) != 0 {
		t.Fatalf("clean state dir: %v, %v (the secret files themselves must be skipped)", found, err)
	}
	leak := filepath.Join(dir, "logs", "leak.log")
	os.WriteFile(leak, []byte("key="+base64.StdEncoding.EncodeToString(s.CorosyncKey)+"\n"), 0o600)
	found, err = ScanForSecrets(dir, vals, nil)
	if err != nil || len(found) != 1 || !strings.HasPrefix(found[0], leak+": secret") {
		t.Fatalf("leak not reported: %v, %v", found, err)
	}
	if strings.Contains(found[0], s.HeartbeatKey) {
		t.Errorf("the report itself shows a secret")
	}
	found, _ = ScanForSecrets(dir, vals, func(p string) bool { return p == leak })
	if len(found) != 0 {
		t.Errorf("skip ignored: %v", found)
	}
}

// The fence endpoint's private keys are secrets too: found in any form in
// output, and the key files themselves are the secret files of the state.
func TestFenceKeysAreSecrets(t *testing.T) {
	dir := t.TempDir()
	p := &fence.PKI{Dir: fence.Dir(dir), Lab: "halab"}
	if err := p.Ensure([]string{"node1", "node2"}, netip.MustParseAddr("192.168.56.1")); err != nil {
		t.Fatal(err)
	}
	vals, err := ReadSecretValues(dir)
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(p.ClientKey("node2"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(key)
	for what, b := range map[string][]byte{
		"the PEM key":            key,
		"one line of its body":   []byte("x " + strings.Split(string(key), "\n")[1] + " y"),
		"its DER in base64":      []byte(base64.StdEncoding.EncodeToString(block.Bytes)),
		"its DER in a hex dump":  []byte(hex.EncodeToString(block.Bytes)),
		"a journal line with it": []byte("fenced[123]: read " + string(key)),
	} {
		if len(FindSecrets(b, vals)) == 0 {
			t.Errorf("%s not recognised as a secret", what)
		}
	}
	cert, _ := os.ReadFile(p.ClientCert("node2"))
	if got := FindSecrets(cert, vals); len(got) != 0 {
		t.Errorf("a certificate (public) taken for a secret: %v", got)
	}
	if !IsSecretFile(p.ClientKey("node1")) || !IsSecretFile(filepath.Join(fence.Dir(dir), "ca.key")) || IsSecretFile(p.CACert()) || IsSecretFile(filepath.Join(dir, "other.key")) {
		t.Error("IsSecretFile: the fence keys, and only them")
	}
	found, err := ScanForSecrets(dir, vals, nil)
	if err != nil || len(found) != 0 {
		t.Errorf("the state directory itself: %v %v", found, err)
	}
}
