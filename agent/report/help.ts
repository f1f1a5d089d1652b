// `guestnet report --help`, beside the code it describes.

export const REPORT_DESCRIBE = 'everything to attach to a bug report, with checks (reads only, changes nothing)';

export const REPORT_EPILOG = `Sections, in order: guestnet (version, backend, scheme and options); the
machine (virtualization, OS and kernel, CPU, memory, from systeminformation;
"unknown" where a probe finds no tool, 10 s at most); every interface (what
status shows, plus operstate, carrier, MTU and the kernel's counters); the
uplink (IPv4 forwarding, the firewall table inet guestnet); checks, each "ok", "problem: ..." or "hint: ...":
  client-default-route     a client link without its default route
  default-route-metrics    several default routes with one metric
  unowned-addresses        an address in 100.64.0.0/16 no link's MAC stands for
  client-address-collisions  links whose MACs derive one client address (refused)
  misplaced-state          the gateway address or guestnet's routes on a link not inter-guest
  provider-forwarding      a provider link while net.ipv4.ip_forward is 0 (and why)
  inter-guest-links-up     an inter-guest link set down or without carrier
  provider-uplink-address  a provider with no addressed link to pass traffic on
  uplink-table             table inet guestnet missing, left over, drifted or unreadable

--json prints the same report as JSON (schema 2; see the README).

Exit codes:
  0  every check ok (hints allowed)
  1  some check found a problem, or the environment cannot be read
  2  bad usage`;
