#!/bin/sh
# Writes a CIB holding only dc-deadtime where Pacemaker has none yet. A
# fresh cluster reads dc-deadtime from its CIB at start and waits that long
# (20 s by default) before electing a DC; the crm step sets the property
# too late for that first wait. An existing CIB is never touched.
# Pacemaker accepts a cib.xml without its .sig digest file.
# $1 dc-deadtime (e.g. 5s).
set -e
dir=/var/lib/pacemaker/cib
[ -e "$dir/cib.xml" ] && exit 0
mkdir -p "$dir"
tmp=$(mktemp "$dir/.cib.xml.XXXXXX")
cat >"$tmp" <<XML
<cib admin_epoch="0" epoch="1" num_updates="0" validate-with="pacemaker-3.0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="$1"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources/>
    <constraints/>
  </configuration>
  <status/>
</cib>
XML
chown hacluster:haclient "$tmp"
chmod 0600 "$tmp"
mv "$tmp" "$dir/cib.xml"
