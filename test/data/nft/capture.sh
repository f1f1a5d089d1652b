#!/bin/sh
# Regenerates the *.hex fixtures: the bytes `nft -f FILE.nft` sends to the
# kernel (one nf_tables batch), captured with strace in a throwaway network
# namespace. test/unit/nft-netlink.test.ts compares guestnet's encoder with
# them byte for byte, sequence numbers normalized. Run as root:
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
