package main

import (
	"testing"

	"halab/scenarios/harness"
)

// Provisioning refuses only what it cannot get through.
func TestBlocksProvision(t *testing.T) {
	for kind, want := range map[string]bool{
		harness.LeftPoweredOff: true, harness.LeftPartition: true, harness.LeftKilledDaemon: true,
		harness.LeftPaused: true, harness.LeftFrozenDaemon: true, harness.LeftPacketFault: true,
		harness.LeftStoppedDaemon: false, harness.LeftFailedDaemon: false, harness.LeftStandby: false, harness.LeftFailCount: false,
	} {
		if got := blocksProvision(kind); got != want {
			t.Errorf("%s blocks provision = %v, want %v", kind, got, want)
		}
	}
}
