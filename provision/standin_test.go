package provision

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"halab/lab"
	"halab/templates"
)

// The service step pushes the stand-in compiled on this machine for Java 7
// (class file version 51), compiled once and kept in the lab's state
// directory for the next run.
func TestStandInClassesCompiledOnceAndKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if _, err := templates.FindJavac7(ctx); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	state := t.TempDir()
	p := &Provisioner{Lab: &lab.Lab{State: state}}
	classes, err := p.standInClasses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range classes {
		if v, err := templates.ClassFileVersion(b); err != nil || v != templates.StandInClassVersion {
			t.Errorf("%s: version %d, %v", name, v, err)
		}
	}
	kept := filepath.Join(state, "stand-in", templates.StandInSourceSHA()[:12], "classes", "Stratos.class")
	if _, err := os.Stat(kept); err != nil {
		t.Fatalf("not kept in the state directory: %v", err)
	}
	// The next run reads them back instead of compiling again.
	before, _ := os.Stat(kept)
	again, err := (&Provisioner{Lab: &lab.Lab{State: state}}).standInClasses(ctx)
	if err != nil || len(again) != len(classes) || string(again["Stratos.class"]) != string(classes["Stratos.class"]) {
		t.Errorf("second run: %d classes, %v", len(again), err)
	}
	if after, _ := os.Stat(kept); !after.ModTime().Equal(before.ModTime()) {
		t.Error("the second run compiled again")
	}
}
