#!/bin/sh
# Regenerates the *.hex fixtures: the bytes `nft -f FILE.nft` sends to the
# kernel (one nf_tables batch), captured with strace in a throwaway network
# namespace. test/unit/nft-netlink.test.ts compares guestnet's encoder with
# them byte for byte, sequence numbers normalized. Also the kernel's answers
# to `nft list ruleset` with guestnet's table and a foreign one in place
# (listing.hex, one datagram a line), which the decoder reads; and the
# nf_tables notifications (group NFNLGRP_NFTABLES) of three transactions,
# as `nft monitor` receives them (events.hex, one datagram a line): the
# foreign table added, guestnet's table set, `nft flush ruleset`; each
# followed by its NEWGEN datagram. Run as root:
#   sh test/data/nft/capture.sh
# Captured with nftables 1.0.6 (Debian 12).
set -eu
cd "$(dirname "$0")"
ns="gn-nftcap-$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
for script in *.nft; do
  trace=$(mktemp)
  ip netns exec "$ns" strace -qq -e trace=sendmsg -e write=3 -o "$trace" nft -f "$script"
  # The hex columns of strace's dump of the batch (the only sendmsg).
  sed -n 's/^ | [0-9a-f]\{5\}  \(.\{48\}\).*/\1/p' "$trace" | tr -d ' \n' > "${script%.nft}.hex"
  echo >> "${script%.nft}.hex"
  rm -f "$trace"
  ip netns exec "$ns" nft flush ruleset
done
ip netns exec "$ns" nft -f masquerade-isolate.nft
ip netns exec "$ns" nft -f foreign.ruleset
trace=$(mktemp)
ip netns exec "$ns" strace -qq -e trace=recvmsg -e read=3 -o "$trace" nft list ruleset > /dev/null
# One line per datagram: strace's hex dump after each recvmsg that got data.
awk '/recvmsg\(/ { if (h != "") print h; h = "" } /^ \| [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / { h = h substr($0, 11, 48) }
     END { if (h != "") print h }' "$trace" | tr -d ' ' > listing.hex
rm -f "$trace"

ip netns exec "$ns" nft flush ruleset
trace=$(mktemp)
ip netns exec "$ns" strace -f -qq -e trace=recvmsg -e read=all -o "$trace" timeout 3 nft monitor > /dev/null &
sleep 1
for change in "-f foreign.ruleset" "-f masquerade-isolate.nft" "flush ruleset"; do
  # shellcheck disable=SC2086 # $change is two words on purpose
  ip netns exec "$ns" nft $change
  sleep 0.2
done
wait
# Only datagrams sent to the group (nl_groups 0x40), not nft's own dump answers.
awk '/recvmsg\(/ { if (h != "") print h; h = ""; on = /nl_groups=0x000040/ }
     on && /^ \| [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / { h = h substr($0, 11, 48) }
     END { if (h != "") print h }' "$trace" | tr -d ' ' > events.hex
rm -f "$trace"
