package provision

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"halab/lab/fence"
)

// Secret values must never reach a terminal, a log or an artifact. These
// helpers find and blank them in raw, hex and base64 form, so that
// artifact collection and tests share one definition of "leaked".

// Redacted replaces each secret form Redact finds.
const Redacted = "[REDACTED]"

// MinSecretLen is the shortest value treated as a secret: shorter ones
// would match ordinary text.
const MinSecretLen = 8

// secretFiles are the lab's secrets in its state directory.
var secretFiles = []string{"authkeys.secret", "corosync.authkey"}

// IsSecretFile reports whether path is one of the secret files in a state
// directory (the only place a secret may be stored on the host): the
// cluster keys, and the fence endpoint's private keys.
func IsSecretFile(path string) bool {
	if filepath.Base(filepath.Dir(path)) == filepath.Base(fence.Dir("")) && strings.HasSuffix(path, ".key") {
		return true
	}
	return slices.Contains(secretFiles, filepath.Base(path))
}

// Values lists the secrets as the byte strings that must never appear:
// the heartbeat key as it is in authkeys (hex text) and its raw bytes, and
// the corosync key.
func (s *Secrets) Values() [][]byte {
	var out [][]byte
	if s.HeartbeatKey != "" {
		out = append(out, []byte(s.HeartbeatKey))
		if raw, err := hex.DecodeString(s.HeartbeatKey); err == nil {
			out = append(out, raw)
		}
	}
	if len(s.CorosyncKey) > 0 {
		out = append(out, s.CorosyncKey)
	}
	return out
}

// ReadSecretValues loads the lab's secrets from its state directory for
// redaction, without making missing ones (a lab never provisioned has
// none, which is not an error).
func ReadSecretValues(stateDir string) ([][]byte, error) {
	s := &Secrets{}
	for _, name := range secretFiles {
		b, err := os.ReadFile(filepath.Join(stateDir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading secret %s: %w", filepath.Join(stateDir, name), err)
		}
		switch name {
		case "authkeys.secret":
			s.HeartbeatKey = hex.EncodeToString(b)
		case "corosync.authkey":
			s.CorosyncKey = b
		}
	}
	// The fence endpoint's private keys (a node's client key among them).
	keys, err := (&fence.PKI{Dir: fence.Dir(stateDir)}).SecretValues()
	if err != nil {
		return nil, err
	}
	return append(s.Values(), keys...), nil
}

type form struct {
	name string
	b    []byte
}

// forms are the ways a secret can be written out: raw, hex in either case,
// and base64 (standard and URL alphabet). A secret inside a longer base64
// blob is encoded at one of three alignments; for each, the groups that
// encode only secret bytes are the same whatever surrounds it.
func forms(secret []byte) []form {
	if len(secret) < MinSecretLen {
		return nil
	}
	fs := []form{
		{"raw", secret},
		{"hex", []byte(hex.EncodeToString(secret))},
		{"HEX", []byte(strings.ToUpper(hex.EncodeToString(secret)))},
		{"base64", []byte(base64.StdEncoding.EncodeToString(secret))},
		{"base64url", []byte(base64.URLEncoding.EncodeToString(secret))},
	}
	for k := 0; k < 3; k++ {
		m := (len(secret) - k) / 3 * 3
		if m < 6 {
			continue
		}
		part := secret[k : k+m]
		fs = append(fs,
			form{fmt.Sprintf("base64 (offset %d)", k), []byte(base64.StdEncoding.EncodeToString(part))},
			form{fmt.Sprintf("base64url (offset %d)", k), []byte(base64.URLEncoding.EncodeToString(part))},
		)
	}
	// Longest first, so that Redact blanks a whole padded encoding before
	// its unpadded core.
	slices.SortStableFunc(fs, func(a, b form) int { return len(b.b) - len(a.b) })
	return fs
}

// Redact returns b with every form of every secret replaced by Redacted.
func Redact(b []byte, secrets [][]byte) []byte {
	out := b
	for _, s := range secrets {
		for _, f := range forms(s) {
			if bytes.Contains(out, f.b) {
				out = bytes.ReplaceAll(out, f.b, []byte(Redacted))
			}
		}
	}
	return out
}

// FindSecrets says which secrets appear in b and in which form, as
// "secret N (form)" — never the value itself.
func FindSecrets(b []byte, secrets [][]byte) []string {
	var found []string
	for i, s := range secrets {
		for _, f := range forms(s) {
			if bytes.Contains(b, f.b) {
				found = append(found, fmt.Sprintf("secret %d (%s)", i+1, f.name))
				break
			}
		}
	}
	return found
}

// ScanForSecrets reads every regular file under root (a file or a
// directory) and reports each one holding a secret, except the secret
// files themselves and what skip (may be nil) excludes.
func ScanForSecrets(root string, secrets [][]byte, skip func(path string) bool) ([]string, error) {
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || IsSecretFile(p) || (skip != nil && skip(p)) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, f := range FindSecrets(b, secrets) {
			found = append(found, p+": "+f)
		}
		return nil
	})
	return found, err
}
