#!/bin/sh
# The reference baseline: what Spectrum's images do today, one run per
# interface from a hotplug rule (mdev/udev), written from docs/contract.md §1-3.
#
#   bench/reference.sh IFACE        (under busybox sh, or /bin/sh)
#
# Reads the MAC from sysfs, derives role and address with awk, then calls `ip`
# once per step: link up, address, route(s); a provider also switches on
# forwarding. `ip` and `awk` are whatever PATH gives (busybox applets under
# busybox sh). Exit status is that of the last failing step, like a plain
# script run by mdev; nothing is undone.
#
# One addition over Spectrum's scripts: client routes carry guestnet's metric
# (1024 + 0xPPQQ, SPEC §4 "several providers"). Without it every client link
# after the first fails with "File exists", so the script would do less kernel
# work than guestnet and the floor, and leave a different state to compare.
iface=${1:?usage: reference.sh IFACE}
gw=169.254.0.1
read -r mac < "/sys/class/net/$iface/address" || exit 2

# "client 100.64.165.70 43334" or "provider 100.64.165.70 0"; nothing if not ours.
set -- $(echo "$mac" | awk -F: '
	function hex(s,  i, n) { s = tolower(s); n = 0
		for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return n }
	NF == 6 && tolower($1 ":" $2 ":" $3) == "0a:b3:ec" {
		pp = hex($5); qq = hex($6)
		if (hex($4) >= 128) print "provider", "100.64." pp "." qq, 0
		else print "client", "100.64." pp "." qq, 1024 + pp * 256 + qq
	}')
[ $# -eq 3 ] || exit 0
role=$1 client=$2 metric=$3

rc=0
ip link set dev "$iface" up || rc=$?
if [ "$role" = client ]; then
	ip addr add "$client/32" dev "$iface" || rc=$?
	ip route add "$gw/32" dev "$iface" metric "$metric" || rc=$?
	ip route add default via "$gw" dev "$iface" metric "$metric" || rc=$?
else
	ip addr add "$gw/32" dev "$iface" || rc=$?
	ip route add "$client/32" dev "$iface" || rc=$?
	echo 1 > /proc/sys/net/ipv4/ip_forward || rc=$?
fi
exit $rc
