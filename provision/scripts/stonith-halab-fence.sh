#!/bin/sh
# halab's cluster-glue external STONITH plugin (external/halab-fence), for
# nodes whose fence-agents has no fence_docker (Ubuntu 12.04): it powers a
# lab machine off and on through the lab's fence endpoint on the host, the
# same endpoint and API fence_docker uses, over mutual TLS with curl (7.22
# on precise: --cacert, --cert, --key, --max-time, -w).
#
# cluster-glue runs it as `halab-fence ACTION [NODE]` with the device's
# parameters in the environment:
#   hostlist       the node this device fences (one device per node)
#   machine        that node's machine, as the provider names it
#   endpoint_ip    the fence endpoint's address on the lab network
#   endpoint_port  its port
#   tls_cacert     the lab CA's certificate (verifies the endpoint)
#   tls_cert       this node's client certificate
#   tls_key        this node's client key
#   race_delay     seconds to wait before a fence (optional): the device
#                  that fences the first node waits, so that in a
#                  partition the first node wins
# Exit status 0 is success. Messages go to stderr, which stonithd logs.

api=v1.41
max_time=10
power_wait=30

hostlist=${hostlist:-}
machine=${machine:-}
endpoint_ip=${endpoint_ip:-}
endpoint_port=${endpoint_port:-}
tls_cacert=${tls_cacert:-}
tls_cert=${tls_cert:-}
tls_key=${tls_key:-}
race_delay=${race_delay:-0}

say() { echo "halab-fence: $*" >&2; }

check_config() {
	for v in "hostlist=$hostlist" "machine=$machine" "endpoint_ip=$endpoint_ip" "endpoint_port=$endpoint_port" \
		"tls_cacert=$tls_cacert" "tls_cert=$tls_cert" "tls_key=$tls_key"; do
		case $v in
		*=)
			say "parameter ${v%=} is missing; check the device's configuration"
			exit 1
			;;
		esac
	done
	case $machine in
	*[!A-Za-z0-9_.-]*)
		say "machine '$machine': not a machine name"
		exit 1
		;;
	esac
	case $endpoint_port in
	*[!0-9]*)
		say "endpoint_port '$endpoint_port': not a port"
		exit 1
		;;
	esac
	case $race_delay in
	*[!0-9]*)
		say "race_delay '$race_delay': not a number of seconds"
		exit 1
		;;
	esac
}

# The node (or its machine) named by the cluster must be this device's.
check_target() {
	for h in $(echo "$hostlist" | tr ',' ' '); do
		if [ "$1" = "$h" ] || [ "$1" = "$machine" ]; then
			return 0
		fi
	done
	say "asked to fence '$1', but this device fences $hostlist ($machine)"
	exit 1
}

# request METHOD PATH: sets code (HTTP status, 000 when the endpoint was not
# reached) and body.
request() {
	out=$(curl -s -S --max-time "$max_time" --connect-timeout 5 \
		--cacert "$tls_cacert" --cert "$tls_cert" --key "$tls_key" \
		-X "$1" -w '\n%{http_code}' \
		"https://$endpoint_ip:$endpoint_port/$api/$2" 2>&1)
	code=$(echo "$out" | tail -n 1)
	body=$(echo "$out" | sed '$d')
	case $code in
	[0-9][0-9][0-9]) ;;
	*) code=000 ;;
	esac
}

# power: sets state to on, off or unknown.
power() {
	request GET "containers/$machine/json"
	if [ "$code" != 200 ]; then
		state=unknown
		say "power state of $machine: HTTP $code: $body"
		return
	fi
	if echo "$body" | grep -q '"Running":true'; then
		state=on
	else
		state=off
	fi
}

# wait_for STATE: polls the power state for up to power_wait seconds.
wait_for() {
	i=0
	while [ "$i" -lt "$power_wait" ]; do
		power
		if [ "$state" = "$1" ]; then
			return 0
		fi
		sleep 1
		i=$((i + 1))
	done
	return 1
}

power_off() {
	if [ "$race_delay" -gt 0 ]; then
		say "waiting $race_delay s before fencing $machine (race guard)"
		sleep "$race_delay"
	fi
	power
	if [ "$state" = off ]; then
		say "$machine is already off"
		return 0
	fi
	request POST "containers/$machine/kill"
	case $code in
	204 | 409) ;;
	*)
		say "power-off $machine: HTTP $code: $body"
		return 1
		;;
	esac
	if wait_for off; then
		say "$machine is off"
		return 0
	fi
	say "power-off $machine: still not off after ${power_wait}s"
	return 1
}

power_on() {
	request POST "containers/$machine/start"
	case $code in
	204 | 304) ;;
	*)
		say "power-on $machine: HTTP $code: $body"
		return 1
		;;
	esac
	if wait_for on; then
		say "$machine is on"
		return 0
	fi
	say "power-on $machine: not on after ${power_wait}s"
	return 1
}

case $1 in
gethosts)
	for h in $(echo "$hostlist" | tr ',' ' '); do
		echo "$h"
	done
	exit 0
	;;
on)
	check_config
	check_target "$2"
	power_on
	exit $?
	;;
off)
	check_config
	check_target "$2"
	power_off
	exit $?
	;;
reset)
	check_config
	check_target "$2"
	power_off || exit 1
	# The node is fenced once it is off; that it boots again is a bonus.
	power_on || say "$machine was fenced but did not come back on"
	exit 0
	;;
status)
	check_config
	power
	[ "$state" != unknown ]
	exit $?
	;;
getconfignames)
	echo hostlist machine endpoint_ip endpoint_port tls_cacert tls_cert tls_key race_delay
	exit 0
	;;
getinfo-devid)
	echo "halab fence endpoint"
	exit 0
	;;
getinfo-devname)
	echo "halab fence endpoint (Docker Engine API over mutual TLS)"
	exit 0
	;;
getinfo-devdescr)
	echo "Powers a halab lab machine off and on through the lab's fence endpoint on the host"
	exit 0
	;;
getinfo-devurl)
	echo "https://github.com/halab"
	exit 0
	;;
getinfo-xml)
	cat <<'XML'
<parameters>
<parameter name="hostlist" unique="1" required="1">
<content type="string" />
<shortdesc lang="en">The node this device fences</shortdesc>
<longdesc lang="en">The cluster node this device fences (one device per node).</longdesc>
</parameter>
<parameter name="machine" unique="1" required="1">
<content type="string" />
<shortdesc lang="en">The node's machine</shortdesc>
<longdesc lang="en">The node's machine as the lab's provider names it (NAME-NODE).</longdesc>
</parameter>
<parameter name="endpoint_ip" unique="0" required="1">
<content type="string" />
<shortdesc lang="en">Fence endpoint address</shortdesc>
<longdesc lang="en">The host's address on the lab network, where the fence endpoint listens.</longdesc>
</parameter>
<parameter name="endpoint_port" unique="0" required="1">
<content type="string" />
<shortdesc lang="en">Fence endpoint port</shortdesc>
<longdesc lang="en">The fence endpoint's TCP port.</longdesc>
</parameter>
<parameter name="tls_cacert" unique="0" required="1">
<content type="string" />
<shortdesc lang="en">CA certificate</shortdesc>
<longdesc lang="en">The lab CA's certificate (PEM), which the endpoint's certificate chains to.</longdesc>
</parameter>
<parameter name="tls_cert" unique="0" required="1">
<content type="string" />
<shortdesc lang="en">Client certificate</shortdesc>
<longdesc lang="en">This node's client certificate (PEM).</longdesc>
</parameter>
<parameter name="tls_key" unique="0" required="1">
<content type="string" />
<shortdesc lang="en">Client key</shortdesc>
<longdesc lang="en">This node's client key (PEM).</longdesc>
</parameter>
<parameter name="race_delay" unique="0" required="0">
<content type="integer" default="0" />
<shortdesc lang="en">Delay before fencing</shortdesc>
<longdesc lang="en">Seconds to wait before a fence: set on the device that fences the node that should win a fence race.</longdesc>
</parameter>
</parameters>
XML
	exit 0
	;;
*)
	exit 1
	;;
esac
