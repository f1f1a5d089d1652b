// `guestnet dns`'s defaults, apart so the CLI can show them in --help
// without loading the resolver.

export const DNS_DEFAULTS = {
  user: 'nobody',
  /** Queries a second one client may send (a token bucket, bursts of one second's worth). */
  'rate-limit': 1000,
  'resolv-conf': '/etc/resolv.conf',
  'state-dir': '/run/guestnet/dns',
} as const;
