package provision

import (
	"embed"
	"fmt"
)

// The scripts that run on the nodes, as root, sent on stdin (`sh -s`): one
// file each, checked by sh -n under dash and bash and by shellcheck.
//
//go:embed scripts/*.sh
var scriptFS embed.FS

// Script returns the embedded script scripts/NAME.sh. A missing name is a
// programming error, caught by the tests that read every script.
func Script(name string) string {
	b, err := scriptFS.ReadFile("scripts/" + name + ".sh")
	if err != nil {
		panic(fmt.Sprintf("provision: no embedded script %s.sh", name))
	}
	return string(b)
}

// ScriptFS is every embedded script, for the tests that check them.
func ScriptFS() embed.FS { return scriptFS }
