/*
 * A hostile guest's router advertisement, for the VM tests: the guest images
 * have no packet crafter, so the test builds this static executable and hands
 * it to the attacking VM on a disk of its own.
 *
 *     ra IFACE PREFIX MTU
 *
 * Sends one RA to ff02::1 on IFACE from the kernel's link-local source:
 * high router preference, a 30-minute router lifetime, an MTU option and a
 * /64 prefix to autoconfigure (PREFIX, e.g. 2001:db8:bad::). What the send.py
 * RA of the namespace tests carries; the kernel fills in the ICMPv6 checksum.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: ra IFACE PREFIX MTU\n");
    return 2;
  }
  unsigned ifindex = if_nametoindex(argv[1]);
  if (ifindex == 0) {
    perror(argv[1]);
    return 1;
  }
  struct {
    struct nd_router_advert ra;
    struct nd_opt_mtu mtu;
    struct nd_opt_prefix_info prefix;
  } __attribute__((packed)) msg;
  memset(&msg, 0, sizeof msg);
  msg.ra.nd_ra_type = ND_ROUTER_ADVERT;
  msg.ra.nd_ra_curhoplimit = 64;
  msg.ra.nd_ra_flags_reserved = 0x08; /* router preference high (RFC 4191) */
  msg.ra.nd_ra_router_lifetime = htons(1800);
  msg.mtu.nd_opt_mtu_type = ND_OPT_MTU;
  msg.mtu.nd_opt_mtu_len = 1;
  msg.mtu.nd_opt_mtu_mtu = htonl((uint32_t)atoi(argv[3]));
  msg.prefix.nd_opt_pi_type = ND_OPT_PREFIX_INFORMATION;
  msg.prefix.nd_opt_pi_len = 4;
  msg.prefix.nd_opt_pi_prefix_len = 64;
  msg.prefix.nd_opt_pi_flags_reserved = ND_OPT_PI_FLAG_ONLINK | ND_OPT_PI_FLAG_AUTO;
  msg.prefix.nd_opt_pi_valid_time = htonl(86400);
  msg.prefix.nd_opt_pi_preferred_time = htonl(14400);
  if (inet_pton(AF_INET6, argv[2], &msg.prefix.nd_opt_pi_prefix) != 1) {
    fprintf(stderr, "%s: not an IPv6 prefix\n", argv[2]);
    return 2;
  }

  int fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  int hops = 255; /* receivers drop neighbour discovery with any other hop limit */
  if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) < 0 ||
      setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex) < 0) {
    perror("socket");
    return 1;
  }
  struct sockaddr_in6 all = {.sin6_family = AF_INET6, .sin6_scope_id = ifindex};
  inet_pton(AF_INET6, "ff02::1", &all.sin6_addr);
  if (sendto(fd, &msg, sizeof msg, 0, (struct sockaddr *)&all, sizeof all) != (ssize_t)sizeof msg) {
    perror("sendto");
    return 1;
  }
  return 0;
}
