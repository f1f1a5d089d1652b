import type { Addr, DeriveOptions, Route } from './types';

/**
 * The route protocol number (and, on Linux >= 6.1, the address protocol)
 * guestnet marks what it installs with: `ip route ... proto 179`. An
 * unassigned number (iproute2's rt_protos names 0-4, 8-19, 42, 99 and
 * 186-192), so no routing daemon claims it. The mark is what lets a later
 * run with other options (another gateway, another prefix) recognise and
 * remove what an earlier run left.
 */
export const RTPROT_GUESTNET = 179;

/**
 * Whether guestnet owns an address on an inter-guest link: one it marked,
 * and the shapes the current options produce: anything in 100.64.0.0/16 and
 * the gateway address. Everything else (IPv6, addresses a person added) is
 * foreign and left alone (SPEC §4).
 */
export function ownsAddr(addr: Addr, options: DeriveOptions): boolean {
  if (addr.proto === RTPROT_GUESTNET) return true;
  // Addresses here come from the kernel in canonical dotted-quad form.
  return addr.address === options.gateway || addr.address.startsWith('100.64.');
}

/**
 * The protocols a route of guestnet's shape may carry and still be
 * adopted: unset (0), the kernel's (2) and `ip route add`'s default, boot
 * (3), which is what Spectrum's shell scripts leave. Any other (static, a
 * routing daemon's such as bird's 12) is someone else's route.
 */
const ADOPTABLE_PROTOCOLS: ReadonlySet<number> = new Set([0, 2, 3]);

/**
 * Whether guestnet owns a route on an inter-guest link: one it marked with
 * RTPROT_GUESTNET, and the shapes it installs under the current options
 * (default via the gateway, a host route to the gateway, host routes into
 * 100.64.0.0/16) with an adoptable protocol, so guestnet adopts and repairs
 * what Spectrum's shell scripts left. A reader that cannot see protocols
 * (proto absent) leaves the shape to decide.
 */
export function ownsRoute(route: Route, options: DeriveOptions): boolean {
  if (route.proto === RTPROT_GUESTNET) return true;
  if (route.proto !== undefined && !ADOPTABLE_PROTOCOLS.has(route.proto)) return false;
  if (route.dst === 'default') return route.via === options.gateway;
  const [address, prefix] = route.dst.split('/');
  return prefix === '32' && route.via === undefined && (address === options.gateway || address.startsWith('100.64.'));
}
