package provision

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"halab/lab"
	"halab/templates"
)

// The service step pushes the stand-in compiled for Java 7 (templates'
// TestStandInJava7 compiles it for real); a run reads back the classes an
// earlier run kept in the lab's state directory instead of compiling
// again, and refuses kept classes that are not Java 7's.
func TestStandInClassesKeptInTheStateDirectory(t *testing.T) {
	ctx := context.Background()
	state := t.TempDir()
	dir := filepath.Join(state, "stand-in", templates.StandInSourceSHA()[:12], "classes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	class := func(major byte) []byte { return []byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, major, 1, 2, 3} }
	os.WriteFile(filepath.Join(dir, "Stratos.class"), class(51), 0o644)
	os.WriteFile(filepath.Join(dir, "Stratos$Handler.class"), class(51), 0o644)
	classes, err := (&Provisioner{Lab: &lab.Lab{State: state}}).standInClasses(ctx)
	if err != nil || len(classes) != 2 || string(classes["Stratos.class"]) != string(class(51)) {
		t.Fatalf("kept classes: %d, %v", len(classes), err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "src")); err == nil {
		t.Error("compiled again although the classes were kept")
	}
	// Java 8 classes (52) are not what the article's JDK 7u60 runs.
	os.WriteFile(filepath.Join(dir, "Stratos.class"), class(52), 0o644)
	if _, err := templates.ReadStandInClasses(dir); err == nil {
		t.Error("class file version 52 accepted")
	}
}
