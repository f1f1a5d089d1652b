#!/bin/bash
# Where the firewall's forwarding cost goes (bench/FORWARDING.md): UDP
# through a netvm namespace with one provider link, iperf3 from its client
# to an upstream host, with the netvm's table in turn
#   masq      today's single masquerade rule (reverse-path filter off)
#   full      guestnet's table inet guestnet, as `guestnet apply` makes it
#   nofib     the same without its reverse-path rule (fib saddr . iif)
#   estfirst  the same with "ct state established,related accept" first in forward
# ROUNDS rounds (default 6) of one 4 s run per variant, interleaved; prints
# each variant's rates and its median ÷ masquerade's. Root; namespaces
# fxup, fxnv and fxcl are made and deleted again.
#   bench/forward-ablation.sh [variant...]   (default: all four)
set -euo pipefail
G=${GUESTNET:-$(dirname "$0")/../dist/guestnet}
variants=("$@")
[ $# -eq 0 ] && variants=(masq full nofib estfirst)
work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  for n in fxup fxnv fxcl; do ip netns del "$n" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
for n in fxup fxnv fxcl; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip -n fxnv link add up0 type veth peer name u0 netns fxup
ip -n fxnv addr add 203.0.113.2/24 dev up0 && ip -n fxnv link set up0 up
ip -n fxup addr add 203.0.113.1/24 dev u0 && ip -n fxup link set u0 up
ip -n fxnv link add p0 address 0a:b3:ec:80:01:02 type veth peer name c0 address 0a:b3:ec:00:01:02 netns fxcl
ip netns exec fxcl "$G" apply -q
ip netns exec fxnv "$G" apply -q
ip netns exec fxnv nft list table inet guestnet >"$work/full.nft"
sed '/fib saddr/d' "$work/full.nft" >"$work/nofib.nft"
awk '/ct state established,related accept/ { next } { print } /hook forward/ { print "\t\tct state established,related accept" }' "$work/full.nft" >"$work/estfirst.nft"
printf 'table ip today {\n chain postrouting {\n  type nat hook postrouting priority srcnat; policy accept;\n  ip saddr 100.64.0.0/16 ip daddr != 100.64.0.0/16 masquerade\n }\n}\n' >"$work/masq.nft"
ip netns exec fxup iperf3 -s >/dev/null 2>&1 &
server=$!
sleep 0.5

rate() {
  ip netns exec fxcl iperf3 -c 203.0.113.1 -t 4 -O 1 -J -u -b 0 -l 1400 |
    python3 -c 'import json, sys; e = json.load(sys.stdin)["end"]; print("%.3f" % (e.get("sum_received", e.get("sum"))["bits_per_second"] / 1e9))'
}
for r in $(seq "${ROUNDS:-6}"); do
  for v in "${variants[@]}"; do
    ip netns exec fxnv nft flush ruleset
    ip netns exec fxnv nft -f "$work/$v.nft"
    ip netns exec fxnv sysctl -qw net.ipv4.conf.p0.rp_filter=$([ "$v" = masq ] && echo 0 || echo 1)
    echo "$v $(rate)"
  done
done | python3 -c '
import collections, statistics, sys
rates = collections.defaultdict(list)
for line in sys.stdin:
    v, gbps = line.split()
    rates[v].append(float(gbps))
base = statistics.median(rates["masq"]) if "masq" in rates else None
for v, xs in rates.items():
    ratio = " = %.3f× masq" % (statistics.median(xs) / base) if base else ""
    print("%-9s median %.2f Gbit/s%s   (%s)" % (v, statistics.median(xs), ratio, " ".join("%.2f" % x for x in xs)))'
