#!/bin/sh
# What faults left on this node, read-only: the rules of the harness's
# partition chain ("partition RULE", one line each) and of its packet
# faults' chain ("drop RULE"), and the state of the stack's daemons
# ("daemon NAME STATE [DETAIL]", STATE one of running, stopped, killed,
# failed, frozen (SIGSTOP), or systemd's word while the unit changes).
# Killed and stopped differ in what they leave: under systemd a SIGKILL
# fails the unit with Result=signal, a stop leaves it inactive; without
# systemd a killed daemon leaves its pid file, a stopped one removes it.
# $1 the partition chain, $2 the packet faults' chain, $3 the messaging
# layer's process, then the stack's daemons.
chain=$1 drop=$2 messaging=$3; shift 3
if command -v iptables >/dev/null; then
  iptables -S 2>/dev/null | grep -F -- "$chain" | sed 's/^/partition /'
  iptables -S 2>/dev/null | grep -F -- "$drop" | sed 's/^/drop /'
fi
# frozen NAME: a process of that name is stopped (state T).
frozen() {
  for pid in $(pgrep -x "$1"); do
    case $(ps -o stat= -p "$pid") in T*) return 0 ;; esac
  done
  return 1
}
for d in "$@"; do
  proc=
  [ "$d" = "$messaging" ] && proc=$d
  if [ -d /run/systemd/system ]; then
    st=$(systemctl show -p ActiveState -p Result -p ExecMainStatus "$d" 2>/dev/null)
    active=$(printf '%s\n' "$st" | sed -n 's/^ActiveState=//p')
    result=$(printf '%s\n' "$st" | sed -n 's/^Result=//p')
    sig=$(printf '%s\n' "$st" | sed -n 's/^ExecMainStatus=//p')
    case $active in
    active)
      if [ -n "$proc" ] && frozen "$proc"; then
        echo "daemon $d frozen"
      elif [ -n "$proc" ] && ! pgrep -x "$proc" >/dev/null; then
        echo "daemon $d killed the unit is active but no $proc process runs"
      else
        echo "daemon $d running"
      fi ;;
    failed)
      if [ "$result" = signal ]; then echo "daemon $d killed by signal $sig"; else echo "daemon $d failed $result"; fi ;;
    inactive|'') echo "daemon $d stopped" ;;
    *) echo "daemon $d $active" ;;
    esac
  else
    if [ -n "$proc" ]; then
      pgrep -x "$proc" >/dev/null && up=yes || up=
    else
      "/etc/init.d/$d" status >/dev/null 2>&1 && up=yes || up=
    fi
    if [ -n "$up" ] && [ -n "$proc" ] && frozen "$proc"; then
      echo "daemon $d frozen"
    elif [ -n "$up" ]; then
      echo "daemon $d running"
    elif [ -f "/var/run/$d.pid" ]; then
      echo "daemon $d killed its pid file /var/run/$d.pid is left"
    else
      echo "daemon $d stopped"
    fi
  fi
done
exit 0
