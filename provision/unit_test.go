package provision

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseOSRelease(t *testing.T) {
	cases := []struct {
		name, in      string
		want          OSInfo
		stack         string
		supportsHBCRM bool
	}{
		{"precise", "NAME=\"Ubuntu\"\nVERSION=\"12.04.5 LTS, Precise Pangolin\"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu precise (12.04.5 LTS)\"\nVERSION_ID=\"12.04\"\n",
			OSInfo{ID: "ubuntu", VersionID: "12.04", Pretty: "Ubuntu precise (12.04.5 LTS)"}, "heartbeat", true},
		{"bookworm", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n",
			OSInfo{ID: "debian", VersionID: "12", Pretty: "Debian GNU/Linux 12 (bookworm)"}, "corosync", false},
		{"unknown", "ID=fedora\nVERSION_ID=40\n", OSInfo{ID: "fedora", VersionID: "40"}, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ParseOSRelease(c.in)
			if got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			if s := got.DefaultStack(); s != c.stack {
				t.Errorf("DefaultStack = %q, want %q", s, c.stack)
			}
			if err := got.Supports("heartbeat"); (err == nil) != c.supportsHBCRM {
				t.Errorf("Supports(heartbeat) = %v", err)
			}
			if err := got.Supports("heartbeat-v1"); err != nil {
				t.Errorf("heartbeat-v1 must run everywhere: %v", err)
			}
			if err := got.Supports("nope"); err == nil {
				t.Errorf("unknown stack accepted")
			}
		})
	}
}

func TestParseCrmMonOnline(t *testing.T) {
	old, err := os.ReadFile("testdata/crm_mon-1.1.6.txt")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, in string
		online   []string
		dc       string
	}{
		// The article's own `crm status` output (Pacemaker 1.1.6 on Heartbeat).
		{"pacemaker 1.1.6", string(old), []string{"ip-10-186-175-16", "ip-10-153-165-178"}, "ip-10-186-175-16"},
		{"pacemaker 2.1", "Cluster Summary:\n  * Stack: corosync\n  * Current DC: node1 (version 2.1.5-a3f44794f94) - partition with quorum\n  * 2 nodes configured\nNode List:\n  * Online: [ node1 node2 ]\n",
			[]string{"node1", "node2"}, "node1"},
		{"no DC yet", "  * Current DC: NONE\nNode List:\n  * Online: [ node1 ]\n  * OFFLINE: [ node2 ]\n", []string{"node1"}, ""},
		{"nothing", "", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			online, dc := ParseCrmMonOnline(c.in)
			if !reflect.DeepEqual(online, c.online) || dc != c.dc {
				t.Errorf("got %v %q, want %v %q", online, dc, c.online, c.dc)
			}
		})
	}
}

func TestPackagesAndDaemonsPerStack(t *testing.T) {
	for _, stack := range []string{"heartbeat", "heartbeat-v1", "corosync"} {
		pk := strings.Join(Packages(stack), " ")
		run, stop := Daemons(stack)
		switch stack {
		case "corosync":
			if !strings.Contains(pk, "corosync") || !strings.Contains(pk, "crmsh") || !reflect.DeepEqual(run, []string{"corosync", "pacemaker"}) || !reflect.DeepEqual(stop, []string{"heartbeat"}) {
				t.Errorf("%s: packages %q, run %v, stop %v", stack, pk, run, stop)
			}
		default:
			if !strings.Contains(pk, "heartbeat") || strings.Contains(pk, "corosync") || !reflect.DeepEqual(run, []string{"heartbeat"}) {
				t.Errorf("%s: packages %q, run %v", stack, pk, run)
			}
		}
	}
}

func TestLSBPlanCoversTheContract(t *testing.T) {
	// The checks Pacemaker's LSB compliance list asks for must all be in
	// the plan, with the exit codes it names.
	want := map[string][]int{
		"status when stopped":          {3},
		"stop when stopped":            {0},
		"start when running":           {0},
		"status when running":          {0},
		"status when the process died": {1, 2, 3},
		"unknown action":               {2},
	}
	for _, s := range LSBPlan {
		if w, ok := want[s.check]; ok {
			if !reflect.DeepEqual(w, s.want) {
				t.Errorf("%s: want %v, plan has %v", s.check, w, s.want)
			}
			delete(want, s.check)
		}
	}
	if len(want) > 0 {
		t.Errorf("plan lacks %v", want)
	}
}
