package templates

import "time"

// The article's names and intervals. The crm configuration is rendered
// from them, and the CIB check, the harness and the scenarios read them
// from here.
const (
	IPResource      = "FAILOVER-IP"
	ServiceResource = "STRATOS"
	GroupResource   = "FAILOVER-IP-RESOURCE-GROUP"
	ColocationID    = "FAILOVER-IP-RESOURCE-GROUP-COLOCATION"
	// IPMonitor and ServiceMonitor are the monitor intervals of the two
	// resources: how long Pacemaker may take to notice one failed.
	// IPAgent is the VIP's resource agent, ocf:heartbeat:IPaddr ("heartbeat"
	// is resource-agents' OCF provider, not the stack); IPaddr2 is its
	// iproute2 successor, which a CIB may hold instead.
	IPAgentClass, IPAgentProvider, IPAgent, IPAgent2 = "ocf", "heartbeat", "IPaddr", "IPaddr2"
	IPMonitor                                        = 10 * time.Second
	ServiceMonitor                                   = 15 * time.Second
	// PIDFileName is the product's pid file, under its home.
	PIDFileName = "wso2carbon.pid"
)

// PIDFile is the pid file of a product installed in home.
func PIDFile(home string) string { return home + "/" + PIDFileName }

// article is what the templates see of these names.
type article struct {
	IPResource, ServiceResource, GroupResource, ColocationID string
	IPAgentClass, IPAgentProvider, IPAgent                   string
	IPMonitor, ServiceMonitor                                string
	PIDFileName                                              string
}

var articleNames = article{
	IPResource: IPResource, ServiceResource: ServiceResource, GroupResource: GroupResource, ColocationID: ColocationID,
	IPAgentClass: IPAgentClass, IPAgentProvider: IPAgentProvider, IPAgent: IPAgent,
	IPMonitor: seconds(IPMonitor), ServiceMonitor: seconds(ServiceMonitor), PIDFileName: PIDFileName,
}

func seconds(d time.Duration) string {
	return time.Duration(d.Seconds() * float64(time.Second)).String()
}
