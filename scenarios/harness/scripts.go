package harness

import (
	"embed"
	"fmt"
)

// The harness's scripts that run on the nodes as root: faults, heals,
// audits, artifacts. One file each, checked like provision's.
//
//go:embed scripts/*.sh
var scriptFS embed.FS

func script(name string) string {
	b, err := scriptFS.ReadFile("scripts/" + name + ".sh")
	if err != nil {
		panic(fmt.Sprintf("harness: no embedded script %s.sh", name))
	}
	return string(b)
}

// ScriptFS is every embedded script, for the tests that check them.
func ScriptFS() embed.FS { return scriptFS }
