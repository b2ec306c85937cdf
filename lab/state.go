package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gofrs/flock"
)

// StateDir is where a lab keeps what must survive between runs and must
// never be committed: pinned host keys, cluster secrets, caches, the lock.
func StateDir(root string, cfg *Config) string {
	return filepath.Join(root, ".halab", cfg.Name)
}

// EnsureStateDir creates the state directory, private to the user.
func EnsureStateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state directory %s: %w", dir, err)
	}
	return os.Chmod(dir, 0o700)
}

// ErrLocked means another halab command holds the lab.
var ErrLocked = errors.New("another halab command is using this lab")

// Lock takes the lab's lock without waiting: two commands against one lab
// would interleave faults and provisioning.
func Lock(dir string) (unlock func(), err error) {
	if err := EnsureStateDir(dir); err != nil {
		return nil, err
	}
	l := flock.New(filepath.Join(dir, "lock"))
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", l.Path(), err)
	}
	if !ok {
		return nil, fmt.Errorf("%w (lock %s); wait for it to finish", ErrLocked, l.Path())
	}
	return func() { _ = l.Unlock() }, nil
}

// WriteFileAtomic writes to a temporary file beside path and renames it, so
// an interrupted write never leaves a truncated file in place.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// vagrantfileMark is what tells halab's Vagrantfile from another
// project's: it reads the lab file halab resolved.
const vagrantfileMark = "HALAB_RESOLVED"

// FindRoot walks up from dir to the directory holding halab's Vagrantfile.
// Another project's Vagrantfile on the way is passed over: halab must
// never run vagrant (destroy, say) in someone else's project.
func FindRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	var foreign []string
	for {
		vf := filepath.Join(d, "Vagrantfile")
		if b, err := os.ReadFile(vf); err == nil {
			if bytes.Contains(b, []byte(vagrantfileMark)) {
				return d, nil
			}
			foreign = append(foreign, vf)
		}
		parent := filepath.Dir(d)
		if parent == d {
			msg := fmt.Sprintf("no halab Vagrantfile in %s or above: run halab from the halab checkout", dir)
			if len(foreign) > 0 {
				msg += fmt.Sprintf(" (%s belongs to another Vagrant project)", strings.Join(foreign, ", "))
			}
			return "", errors.New(msg)
		}
		d = parent
	}
}
