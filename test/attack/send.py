#!/usr/bin/python3
"""A hostile guest's packets, crafted with scapy and sent as raw frames.

    ip netns exec NS python3 send.py IFACE GATEWAY_MAC 'JSON'

JSON is a list of packets, each an object with a "kind" (see BUILD below);
they go out in order on IFACE, unicast frames to GATEWAY_MAC (the netvm's end
of the link), so nothing depends on the sender's own ARP or routes.
"""
import json
import sys

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo,
                                ICMPv6NDOptSrcLLAddr, ICMPv6ND_RA, IPv6)
from scapy.layers.l2 import ARP, Ether
from scapy.sendrecv import sendp


def icmp(p, mac, gw):
    """An echo request from any source."""
    return [Ether(src=mac, dst=gw) / IP(src=p["src"], dst=p["dst"]) / ICMP(id=p["id"], seq=1)]


def udp(p, mac, gw):
    """One datagram per destination port: `count` flows."""
    return [Ether(src=mac, dst=gw) / IP(src=p["src"], dst=p["dst"]) / UDP(sport=40000, dport=p["port"] + i) / b"x"
            for i in range(p.get("count", 1))]


def syn(p, mac, gw):
    return [Ether(src=mac, dst=gw) / IP(src=p["src"], dst=p["dst"]) / TCP(sport=p.get("sport", 40000), dport=p["port"], flags="S")]


def arp(p, mac, _gw):
    """Who-has requests for `target`, each with its own sender address and MAC."""
    out = []
    for i, sender in enumerate(p["senders"]):
        smac = p.get("mac") or "0a:b3:ec:%02x:%02x:%02x" % (0x40, i >> 8, i & 0xFF)
        out.append(Ether(src=smac, dst="ff:ff:ff:ff:ff:ff") /
                   ARP(op=1, hwsrc=smac, psrc=sender, hwdst="00:00:00:00:00:00", pdst=p["target"]))
    return out


def ra(p, mac, _gw):
    """A router advertisement at high preference with a prefix to autoconfigure and an MTU."""
    return [Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=p["src"], dst="ff02::1", hlim=255) /
            ICMPv6ND_RA(prf=1, routerlifetime=1800) /
            ICMPv6NDOptSrcLLAddr(lladdr=mac) / ICMPv6NDOptMTU(mtu=p["mtu"]) /
            ICMPv6NDOptPrefixInfo(prefix=p["prefix"], prefixlen=64, L=1, A=1,
                                  validlifetime=86400, preferredlifetime=14400)]


def frag_needed(p, mac, gw):
    """ICMP "fragmentation needed" quoting an echo reply the netvm sent (`quote`: src, dst, id, seq).

    Linux believes a quoted echo reply without a socket to match (icmp_err),
    so this is the error that lowers a path MTU whenever it is let in.
    """
    q = p["quote"]
    inner = IP(src=q["src"], dst=q["dst"]) / ICMP(type=0, id=q["id"], seq=q["seq"])
    return [Ether(src=mac, dst=gw) / IP(src=p["src"], dst=p["dst"]) /
            ICMP(type=3, code=4, nexthopmtu=p["mtu"]) / bytes(inner)]


BUILD = {"icmp": icmp, "udp": udp, "syn": syn, "arp": arp, "ra": ra, "frag-needed": frag_needed}


def main():
    iface, gw, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    with open(f"/sys/class/net/{iface}/address") as f:
        mac = f.read().strip()
    frames = [frame for p in spec for frame in BUILD[p["kind"]](p, mac, gw)]
    sendp(frames, iface=iface, verbose=False)


if __name__ == "__main__":
    main()
