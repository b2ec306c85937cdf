package scenarios

import (
	"encoding/json"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"halab/provision"
	"halab/scenarios/harness"
)

// configEntryName is the report entry with the configuration audit: the
// cluster's own verifiers' findings on its configuration (a
// provision.ConfigAudit), added by the baseline spec.
const configEntryName = "configuration"

// reportConfigAudit checks that the audit ran the cluster's verifiers
// (where the stack has them) and found no error, and reports their
// findings: in the spec's output with what each means, and as an entry
// that the summary prints.
func reportConfigAudit(a *harness.Audit) {
	GinkgoHelper()
	Expect(a.ConfigErr).To(BeEmpty(), "the configuration's verifiers could not run")
	Expect(a.Config).NotTo(BeNil(), "no node's resource manager answered for the configuration audit")
	Expect(a.Config.Errors()).To(BeEmpty(), "the cluster's verifiers find errors in the configuration")
	fmt.Fprintf(GinkgoWriter, "configuration audit: %s\n", configAuditText(a.Config))
	// the entry is for the summary and the reports; its text is the line
	// above, not Go's rendering of the struct
	AddReportEntry(configEntryName, *a.Config, ReportEntryVisibilityNever)
}

func configAuditText(ca *provision.ConfigAudit) string {
	if ca.NotApplicable != "" {
		return "not applicable: " + ca.NotApplicable
	}
	s := fmt.Sprintf("%s (the cluster's verifiers, on %s)", ca.Count(), ca.Node)
	for _, f := range ca.Findings {
		s += "\n  - " + strings.ReplaceAll(f.String(), "\n", "\n  ")
	}
	return s
}

// Next to the summary table: the configuration audit the baseline spec
// reported, so that a green run also says what the verifiers warn of.
var _ = ReportAfterSuite("configuration audit", func(r Report) {
	for _, s := range r.SpecReports {
		for _, re := range s.ReportEntries {
			if re.Name != configEntryName {
				continue
			}
			var ca provision.ConfigAudit
			if v, ok := re.GetRawValue().(provision.ConfigAudit); ok {
				ca = v
			} else if json.Unmarshal([]byte(re.Value.AsJSON), &ca) != nil {
				continue
			}
			fmt.Printf("\n==> configuration audit: %s\n", configAuditText(&ca))
			return
		}
	}
})
