package templates

import (
	"fmt"
	"time"
)

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
	// FenceMonitor is the fence devices' monitor interval (beyond the
	// article, which does not fence): how soon a device that stopped
	// answering shows as failed.
	FenceMonitor = 60 * time.Second
	// GroupPriority is the resource group's priority when the race guard
	// is priority-fencing-delay: the node running it is fenced last.
	GroupPriority = 10
)

// FenceResource is the id of the fence device that fences node;
// FenceLocation the id of the constraint that keeps it off that node.
func FenceResource(node string) string { return "FENCE-" + node }
func FenceLocation(node string) string { return FenceResource(node) + "-NOT-ON-" + node }

// PIDFile is the pid file of a product installed in home.
func PIDFile(home string) string { return home + "/" + PIDFileName }

// article is what the templates see of these names.
type article struct {
	IPResource, ServiceResource, GroupResource, ColocationID string
	IPAgentClass, IPAgentProvider, IPAgent                   string
	IPMonitor, ServiceMonitor, FenceMonitor                  string
	PIDFileName                                              string
}

var articleNames = article{
	IPResource: IPResource, ServiceResource: ServiceResource, GroupResource: GroupResource, ColocationID: ColocationID,
	IPAgentClass: IPAgentClass, IPAgentProvider: IPAgentProvider, IPAgent: IPAgent,
	IPMonitor: seconds(IPMonitor), ServiceMonitor: seconds(ServiceMonitor), FenceMonitor: fmt.Sprintf("%ds", int(FenceMonitor.Seconds())), PIDFileName: PIDFileName,
}

func seconds(d time.Duration) string {
	return time.Duration(d.Seconds() * float64(time.Second)).String()
}
