package provision

import (
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"halab/lab"
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
			s, ok := got.AutoStack()
			if name := ""; ok {
				name = s.Name
				if name != c.stack {
					t.Errorf("AutoStack = %q, want %q", name, c.stack)
				}
			} else if c.stack != "" {
				t.Errorf("AutoStack = none, want %q", c.stack)
			}
			hb, _ := StackByName("heartbeat")
			if err := hb.Runs(got); (err == nil) != c.supportsHBCRM {
				t.Errorf("heartbeat.Runs = %v", err)
			}
			v1, _ := StackByName("heartbeat-v1")
			if err := v1.Runs(got); err != nil {
				t.Errorf("heartbeat-v1 must run everywhere: %v", err)
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

func TestStackRegistry(t *testing.T) {
	names := StackNames()
	if len(names) < 3 {
		t.Fatalf("stacks %v", names)
	}
	precise := OSInfo{ID: "ubuntu", VersionID: "12.04"}
	bookworm := OSInfo{ID: "debian", VersionID: "12"}
	for _, s := range Stacks() {
		t.Run(s.Name, func(t *testing.T) {
			if got, ok := StackByName(s.Name); !ok || got != s {
				t.Fatalf("StackByName(%q) = %v, %v", s.Name, got, ok)
			}
			if s.About == "" || s.TimingsAbout == nil || len(s.Packages) == 0 || len(s.Daemons) == 0 || s.Messaging == "" || len(s.Stop) == 0 || s.Status == "" {
				t.Errorf("incomplete stack: %+v", s)
			}
			if !slices.Contains(s.Packages, s.Messaging) {
				t.Errorf("the messaging daemon %s is not among the packages %v", s.Messaging, s.Packages)
			}
			for _, d := range s.Conflicts() {
				if slices.Contains(s.Daemons, d) {
					t.Errorf("%s both runs and stops %s", s.Name, d)
				}
			}
			// Every stack's own facts are recognised as its own, and as
			// no other stack's.
			facts := NodeFacts{Enabled: s.Daemons, CRM: "no"}
			if s.Caps.ResourceManager && !slices.Contains(s.Daemons, "corosync") {
				facts.CRM = "yes"
			}
			for _, o := range Stacks() {
				if o.Detect(facts) != (o == s) {
					t.Errorf("facts %+v: %s.Detect = %v", facts, o.Name, o.Detect(facts))
				}
			}
			if s.Runs(precise) != nil && s.Runs(bookworm) != nil {
				t.Errorf("%s runs nowhere", s.Name)
			}
			art, _ := lab.TimingProfile("article")
			if d := s.Detection(art); d <= 0 || d > time.Minute {
				t.Errorf("detection %s", d)
			}
			if !s.Caps.ResourceManager && s.Caps.Monitor {
				t.Error("a monitor without a resource manager")
			}
		})
	}
	if s, ok := precise.AutoStack(); !ok || s.Name != "heartbeat" {
		t.Errorf("auto on precise: %v", s)
	}
	if s, ok := bookworm.AutoStack(); !ok || s.Name != "corosync" {
		t.Errorf("auto on bookworm: %v", s)
	}
}

func TestCapsLabelFilter(t *testing.T) {
	cases := map[Caps]string{
		{ResourceManager: true, Monitor: true}: "!without-crm && !without-monitor",
		{}:                                     "!needs-crm && !needs-monitor",
		{ResourceManager: true}:                "!without-crm && !needs-monitor",
	}
	for c, want := range cases {
		if got := c.LabelFilter(); got != want {
			t.Errorf("%+v: %q, want %q", c, got, want)
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
