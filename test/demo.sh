#!/usr/bin/env bash
# The built-in demo: three throwaway network namespaces wired the way
# Spectrum's host wires VMs (one host bridge per inter-guest link, the
# client VM's NIC and the netvm's NIC on it), `guestnet apply` in each,
# `guestnet status`, then pings across. Everything is deleted on exit.
set -euo pipefail
GUESTNET=${GUESTNET:-$(cd "$(dirname "$0")/.." && pwd)/dist/guestnet}
tag="gn-demo-$$"
host="$tag-host" appvm="$tag-appvm" appvm2="$tag-appvm2" netvm="$tag-netvm"

cleanup() { for ns in "$host" "$appvm" "$appvm2" "$netvm"; do ip netns del "$ns" 2>/dev/null || true; done; }
trap cleanup EXIT
for ns in "$host" "$appvm" "$appvm2" "$netvm"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done

# link VM_NS VM_IF VM_MAC BRIDGE: a NIC in the VM, its other end on the host bridge.
port=0
link() {
  ip -n "$host" link show "$4" >/dev/null 2>&1 || { ip -n "$host" link add "$4" type bridge; ip -n "$host" link set "$4" up; }
  port=$((port + 1))
  ip -n "$host" link add "tap$port" type veth peer name "$2" address "$3" netns "$1"
  ip -n "$host" link set "tap$port" master "$4" up
}
link "$appvm" eth0 0a:b3:ec:00:a5:46 br1    # appvm  <-> netvm, client 100.64.165.70
link "$netvm" eth0 0a:b3:ec:80:a5:46 br1
link "$appvm2" eth0 0a:b3:ec:00:a5:47 br2   # appvm2 <-> netvm, client 100.64.165.71
link "$netvm" eth1 0a:b3:ec:80:a5:47 br2

for vm in netvm appvm appvm2; do
  echo "== $vm: guestnet apply"
  ip netns exec "${tag}-$vm" "$GUESTNET" apply
done
for vm in netvm appvm; do
  echo "== $vm: guestnet status"
  ip netns exec "${tag}-$vm" "$GUESTNET" status
done
echo "== pings"
p() { ip netns exec "$1" ping -c 1 -W 2 "$2" >/dev/null && echo "ok   $3 -> $2" || { echo "FAIL $3 -> $2"; return 1; }; }
p "$appvm" 169.254.0.1 appvm
p "$appvm2" 169.254.0.1 appvm2
p "$netvm" 100.64.165.70 netvm
p "$netvm" 100.64.165.71 netvm
# Client isolation (the netvm's table ip guestnet): app VMs do not reach each other.
ip netns exec "$appvm" ping -c 1 -W 1 100.64.165.71 >/dev/null && { echo "FAIL appvm reached appvm2"; exit 1; }
echo "ok   appvm -/-> 100.64.165.71 (client isolation in the netvm)"
echo "== second apply in appvm (idempotent: no changes)"
ip netns exec "$appvm" "$GUESTNET" apply
