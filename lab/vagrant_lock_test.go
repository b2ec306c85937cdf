package lab

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// Two labs' vagrant up or destroy on one host take turns: the second waits
// for the first, says so, and gives up when its context ends.
func TestVagrantIndexLockSerialisesLabs(t *testing.T) {
	t.Setenv("VAGRANT_HOME", t.TempDir())
	var outA, outB bytes.Buffer
	a, b := &Vagrant{Out: &outA}, &Vagrant{Out: &outB}
	unlockA, err := a.lockIndex(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := b.lockIndex(ctx); err == nil || !strings.Contains(err.Error(), "another lab's vagrant") {
		t.Fatalf("second lab took the lock while the first held it: %v", err)
	}
	if !strings.Contains(outB.String(), "waiting for another lab's vagrant up or destroy") {
		t.Errorf("the waiting lab did not say so: %q", outB.String())
	}
	got := make(chan error, 1)
	go func() {
		unlock, err := b.lockIndex(context.Background())
		if err == nil {
			unlock()
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	unlockA()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second lab never got the lock after the first let go")
	}
	if outA.Len() != 0 {
		t.Errorf("the first lab waited for nobody but said %q", outA.String())
	}
}
