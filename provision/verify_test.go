package provision

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func readVerifierFixture(t *testing.T, name string) (string, int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata/verify", name))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\.exit(\d+)\.txt$`).FindStringSubmatch(name)
	if m == nil {
		t.Fatalf("%s: no exit code in the name", name)
	}
	code, _ := strconv.Atoi(m[1])
	return string(data), code
}

// The verifiers' real output (testdata/verify/README.md says where each
// comes from) read as findings: level, the verifier's words, and what
// the ones the article's configuration raises mean.
func TestParseVerifier(t *testing.T) {
	crmVerify2, crmsh := Pacemaker2Verifiers[0], Pacemaker2Verifiers[1]
	crmVerify116, crm116 := Pacemaker116Verifiers[0], Pacemaker116Verifiers[1]
	const blind = "Blind faith: not fencing unseen nodes"
	const groupedIP = "FAILOVER-IP-RESOURCE-GROUP-COLOCATION: resource FAILOVER-IP is grouped, constraints should apply to the group"
	const groupedSvc = "FAILOVER-IP-RESOURCE-GROUP-COLOCATION: resource STRATOS is grouped, constraints should apply to the group"
	const noDevice = "Resource start-up disabled since no STONITH resources have been defined"
	cases := []struct {
		file     string
		v        Verifier
		warnings []string
		errors   []string
	}{
		{"pcmk2.1.5-crm_verify-L-VV-article.exit0.txt", crmVerify2, []string{blind}, nil},
		// one -V says nothing on 2.1.5: why the stack runs it with two
		{"pcmk2.1.5-crm_verify-L-V-article.exit0.txt", crmVerify2, nil, nil},
		{"crmsh4.4-configure-verify-article.exit0.txt", crmsh, []string{blind, groupedIP, groupedSvc}, nil},
		{"pcmk2.1.5-crm_verify-L-VV-no-fence-device.exit78.txt", crmVerify2, nil,
			[]string{noDevice, "Either configure some or disable STONITH with the stonith-enabled option", "NOTE: Clusters with shared data need STONITH to ensure data integrity"}},
		{"crmsh4.4-configure-verify-no-fence-device.exit1.txt", crmsh, []string{groupedIP, groupedSvc},
			[]string{noDevice, "Either configure some or disable STONITH with the stonith-enabled option", "NOTE: Clusters with shared data need STONITH to ensure data integrity"}},
		{"pcmk1.1.6-crm_verify-L-V-article.exit0.txt", crmVerify116, nil, nil},
		{"pcmk1.1.6-crm_verify-L-V-startup-fencing-false.exit0.txt", crmVerify116, []string{blind}, nil},
		{"pcmk1.1.6-crm_verify-L-V-no-fence-device.exit2.txt", crmVerify116, nil,
			[]string{noDevice, "Either configure some or disable STONITH with the stonith-enabled option", "NOTE: Clusters with shared data need STONITH to ensure data integrity"}},
		{"pcmk1.1.6-crm-configure-verify-no-fence-device.exit1.txt", crm116, nil,
			[]string{noDevice, "Either configure some or disable STONITH with the stonith-enabled option", "NOTE: Clusters with shared data need STONITH to ensure data integrity"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			out, code := readVerifierFixture(t, c.file)
			fs, err := ParseVerifier(c.v, out, code)
			if err != nil {
				t.Fatal(err)
			}
			var warnings, errors []string
			for _, f := range fs {
				if len(f.By) != 1 || f.By[0] != c.v.Name {
					t.Errorf("%q by %v", f.Text, f.By)
				}
				if strings.ContainsAny(f.Text, "\x1b\t") {
					t.Errorf("%q keeps colour or tab", f.Text)
				}
				switch f.Level {
				case "warning":
					warnings = append(warnings, f.Text)
				case "error":
					errors = append(errors, f.Text)
				default:
					t.Errorf("level %q", f.Level)
				}
			}
			if strings.Join(warnings, "\n") != strings.Join(c.warnings, "\n") {
				t.Errorf("warnings\n%q\nwant\n%q", warnings, c.warnings)
			}
			if strings.Join(errors, "\n") != strings.Join(c.errors, "\n") {
				t.Errorf("errors\n%q\nwant\n%q", errors, c.errors)
			}
			for _, f := range fs {
				known := f.Text == blind || f.Text == groupedIP || f.Text == groupedSvc || f.Text == noDevice
				if known == (f.Meaning == "") {
					t.Errorf("%q: meaning %q", f.Text, f.Meaning)
				}
			}
		})
	}
}

// What a user reads: the two verifiers' findings on the article's
// configuration merged (Blind faith said by both is one finding), each
// with what it means; an exit that is an error without a line saying so
// is still an error; heartbeat v1 has nothing to verify and says why.
func TestConfigAuditFindings(t *testing.T) {
	var all []Finding
	for _, f := range []struct {
		file string
		v    Verifier
	}{{"pcmk2.1.5-crm_verify-L-VV-article.exit0.txt", Pacemaker2Verifiers[0]}, {"crmsh4.4-configure-verify-article.exit0.txt", Pacemaker2Verifiers[1]}} {
		out, code := readVerifierFixture(t, f.file)
		fs, err := ParseVerifier(f.v, out, code)
		if err != nil {
			t.Fatal(err)
		}
		all = mergeFindings(all, fs)
	}
	a := &ConfigAudit{Findings: all}
	if len(all) != 3 || strings.Join(all[0].By, ",") != "crm_verify,crm configure verify" {
		t.Fatalf("%+v", all)
	}
	if len(a.Errors()) != 0 {
		t.Errorf("errors %v", a.Errors())
	}
	if s := a.Summary(); !strings.HasPrefix(s, "3 warnings: Blind faith: not fencing unseen nodes; FAILOVER-IP-RESOURCE-GROUP-COLOCATION") {
		t.Errorf("Summary %q", s)
	}
	if s := all[1].String(); !strings.Contains(s, "warning (crm configure verify): FAILOVER-IP-RESOURCE-GROUP-COLOCATION") ||
		!strings.Contains(s, "means: the colocation FAILOVER-IP-RESOURCE-GROUP-COLOCATION only repeats what the group already does") {
		t.Errorf("String %q", s)
	}
	if s := all[0].Meaning; !strings.Contains(s, "stonith-enabled=false") || !strings.Contains(s, "both nodes") {
		t.Errorf("Blind faith means %q", s)
	}

	fs, _ := ParseVerifier(Pacemaker2Verifiers[1], "", 1)
	if len(fs) != 1 || fs[0].Level != "error" || fs[0].Text != "exited 1 (no output)" {
		t.Errorf("silent failure: %+v", fs)
	}
	fs, _ = ParseVerifier(Pacemaker2Verifiers[0], "/tmp/bad.xml:38: element rsc_colocation: validity error : IDREF attribute with-rsc references an unknown ID \"NOPE\"\n(main) \terror: CIB did not pass schema validation\ncrm_verify: Errors found during check: config not valid\n", 78)
	if len(fs) != 2 || fs[0].Text != "CIB did not pass schema validation" || !strings.Contains(fs[1].Text, "IDREF attribute") {
		t.Errorf("schema failure: %+v", fs)
	}
	if (&ConfigAudit{NotApplicable: HeartbeatV1NoVerifier}).Summary() != "not applicable: "+HeartbeatV1NoVerifier {
		t.Error("heartbeat v1's summary")
	}
	if (&ConfigAudit{}).Summary() != "no findings" {
		t.Error("clean summary")
	}
}

// A verifier that cannot read the CIB (Pacemaker stopped on the node)
// says nothing about the configuration: an error naming it, no finding.
func TestParseVerifierWithoutCIB(t *testing.T) {
	for _, c := range []struct {
		file string
		v    Verifier
		want string
	}{
		{"pcmk2.1.5-crm_verify-L-VV-pacemaker-down.exit66.txt", Pacemaker2Verifiers[0], "crm_verify could not read the CIB (is Pacemaker running?): crm_verify: CIB query failed: Input file not available"},
		{"crmsh4.4-configure-verify-pacemaker-down.exit1.txt", Pacemaker2Verifiers[1], "crm configure verify could not read the CIB (is Pacemaker running?): ERROR: running cibadmin -Ql: Could not connect to the CIB: Transport endpoint is not connected"},
		{"pcmk1.1.6-crm_verify-L-V-pacemaker-down.exit3.txt", Pacemaker116Verifiers[0], "crm_verify could not read the CIB (is Pacemaker running?): Live CIB query failed: connection failed"},
	} {
		out, code := readVerifierFixture(t, c.file)
		fs, err := ParseVerifier(c.v, out, code)
		if err == nil || err.Error() != c.want || len(fs) != 0 {
			t.Errorf("%s: %v, %+v; want error %q", c.file, err, fs, c.want)
		}
	}
}
