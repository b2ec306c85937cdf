package provision

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"halab/lab"
)

// Secrets are the cluster's shared keys, made once per lab with crypto/rand
// and kept 0600 in the lab's state directory so that every node gets the
// same ones and a re-run changes nothing. They are never printed or logged.
type Secrets struct {
	// HeartbeatKey is the sha1 key of /etc/ha.d/authkeys (hex).
	HeartbeatKey string
	// CorosyncKey is /etc/corosync/authkey (binary, 256 bytes).
	CorosyncKey []byte
}

// LoadSecrets reads the lab's secrets, generating the missing ones.
func LoadSecrets(stateDir string) (*Secrets, error) {
	if err := lab.EnsureStateDir(stateDir); err != nil {
		return nil, err
	}
	hb, err := secretFile(filepath.Join(stateDir, "authkeys.secret"), 32)
	if err != nil {
		return nil, err
	}
	cs, err := secretFile(filepath.Join(stateDir, "corosync.authkey"), 256)
	if err != nil {
		return nil, err
	}
	return &Secrets{HeartbeatKey: hex.EncodeToString(hb), CorosyncKey: cs}, nil
}

func secretFile(path string, size int) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != size {
			return nil, fmt.Errorf("secret %s has %d bytes, want %d: delete it to make a new one (then re-provision every node)", path, len(b), size)
		}
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path, 0o600); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	if !os.IsNotExist(err) {
		return nil, fmt.Errorf("reading secret %s: %w", path, err)
	}
	b = make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := lab.WriteFileAtomic(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("writing secret %s: %w", path, err)
	}
	return b, nil
}
