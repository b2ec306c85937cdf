package lab

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Identity is who a lab is: its name and the absolute path of its lab
// file. Two lab files (in one checkout or two) never share machines,
// state or networks: every machine carries the identity's ID as a label,
// and halab acts only on machines that carry its own.
type Identity struct {
	Name   string `json:"name"`
	Config string `json:"config"`
	ID     string `json:"id"`
}

// NewIdentity is the identity of the lab file at config (absolute).
func NewIdentity(name, config string) Identity {
	sum := sha256.Sum256([]byte(name + "\x00" + config))
	return Identity{Name: name, Config: config, ID: hex.EncodeToString(sum[:])[:12]}
}

func identityFile(state string) string { return filepath.Join(state, "identity.json") }

// ReadIdentity reads the identity recorded in a state directory; ok is
// false when none is.
func ReadIdentity(state string) (Identity, bool, error) {
	b, err := os.ReadFile(identityFile(state))
	if errors.Is(err, fs.ErrNotExist) {
		return Identity{}, false, nil
	}
	if err != nil {
		return Identity{}, false, err
	}
	var id Identity
	if err := json.Unmarshal(b, &id); err != nil {
		return Identity{}, false, fmt.Errorf("%s: %w (delete it if no machine of this lab exists)", identityFile(state), err)
	}
	return id, true, nil
}

// claimState records the lab's identity in its state directory, or
// refuses when another lab file of the same name holds it: the state
// directory (machines, keys, secrets) would otherwise be shared.
func claimState(state string, id Identity) error {
	old, ok, err := ReadIdentity(state)
	if err != nil {
		return err
	}
	if ok && old.Config != id.Config {
		return &ConfigError{File: id.Config, Problems: []string{fmt.Sprintf(
			"name: %q is the name of another lab in this checkout, %s, whose state is %s: give this lab file a name of its own (or run `halab -c %s down` first)",
			id.Name, old.Config, state, old.Config)}}
	}
	if ok {
		return nil
	}
	if err := EnsureStateDir(state); err != nil {
		return err
	}
	b, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(identityFile(state), append(b, '\n'), 0o600)
}

// releaseState forgets the identity (after down), so that another lab file
// may take the name.
func releaseState(state string) error {
	if err := os.Remove(identityFile(state)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// DerivedPath is where a copy of the lab file config, changed for one
// purpose (a timing profile, fencing on or off: what `halab bench`
// measures side by side), is written: beside it, hidden, named after it
// and tag. A derived file describes the same lab: Open gives it the
// original's identity and state.
func DerivedPath(config, tag string) string {
	base := filepath.Base(config)
	return filepath.Join(filepath.Dir(config), "."+strings.TrimSuffix(base, filepath.Ext(base))+"."+tag+".yaml")
}

// DerivedFrom says whether path is a DerivedPath of config (both
// absolute).
func DerivedFrom(path, config string) bool {
	base := filepath.Base(config)
	prefix := "." + strings.TrimSuffix(base, filepath.Ext(base)) + "."
	name := filepath.Base(path)
	tag := strings.TrimSuffix(strings.TrimPrefix(name, prefix), ".yaml")
	return filepath.Dir(path) == filepath.Dir(config) && strings.HasPrefix(name, prefix) && strings.HasSuffix(name, ".yaml") &&
		tag != "" && !strings.ContainsAny(tag, "/")
}
