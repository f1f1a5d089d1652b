#!/bin/sh
# Regenerates the captures the unit tests (test/unit/nft-netlink.test.ts)
# hold guestnet's nf_tables code against, in a throwaway network namespace:
# - NAME.hex: the batch `nft -f NAME.nft` sends (strace of its one sendmsg);
# - NAME.listing.hex: the kernel's answers to `nft list ruleset` once
#   NAME.nft is applied, one datagram a line: what the decoder reads and the
#   wanted expressions are compared with;
# - listing.hex: the same with the old table (legacy.ruleset), the new one
#   (boundary.nft) and a foreign table (foreign.ruleset) in place.
# - events.hex: the nf_tables notifications (group NFNLGRP_NFTABLES) of three
#   transactions as `nft monitor` receives them, one datagram a line: the
#   foreign table added, guestnet's table set, `nft flush ruleset`.
# The *.nft files are guestnet's own scripts (the test checks they are).
# Run as root:  sh test/data/nft/capture.sh   (captured with nftables 1.0.6, Debian 12)
set -eu
cd "$(dirname "$0")"
ns="gn-nftcap-$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
in_ns() { ip netns exec "$ns" "$@"; }

# One line per datagram: strace's hex dump after each recvmsg that got data.
listing() {
  trace=$(mktemp)
  in_ns strace -qq -e trace=recvmsg -e read=3 -o "$trace" nft list ruleset > /dev/null
  awk '/recvmsg\(/ { if (h != "") print h; h = "" } /^ \| [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / { h = h substr($0, 11, 48) }
       END { if (h != "") print h }' "$trace" | tr -d ' ' > "$1"
  rm -f "$trace"
}

for script in *.nft; do
  name=${script%.nft}
  trace=$(mktemp)
  in_ns strace -qq -e trace=sendmsg -e write=3 -o "$trace" nft -f "$script"
  # The hex columns of strace's dump of the batch (the only sendmsg).
  sed -n 's/^ | [0-9a-f]\{5\}  \(.\{48\}\).*/\1/p' "$trace" | tr -d ' \n' > "$name.hex"
  echo >> "$name.hex"
  rm -f "$trace"
  [ "$name" = delete ] || listing "$name.listing.hex"
  in_ns nft flush ruleset
done
in_ns nft -f legacy.ruleset
in_ns nft -f boundary.nft
in_ns nft -f legacy.ruleset
in_ns nft -f foreign.ruleset
listing listing.hex

in_ns nft flush ruleset
trace=$(mktemp)
in_ns strace -f -qq -e trace=recvmsg -e read=all -o "$trace" timeout 3 nft monitor > /dev/null &
sleep 1
for change in "-f foreign.ruleset" "-f boundary.nft" "flush ruleset"; do
  # shellcheck disable=SC2086 # $change is two words on purpose
  in_ns nft $change
  sleep 0.2
done
wait
# Only datagrams sent to the group (nl_groups 0x40), not nft's own dump answers.
awk '/recvmsg\(/ { if (h != "") print h; h = ""; on = /nl_groups=0x000040/ }
     on && /^ \| [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / { h = h substr($0, 11, 48) }
     END { if (h != "") print h }' "$trace" | tr -d ' ' > events.hex
rm -f "$trace"
