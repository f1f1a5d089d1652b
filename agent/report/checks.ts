import { collisionText } from '../convention/collision';
import { RTPROT_GUESTNET } from '../convention/ownership';
import type { Route } from '../convention/types';
import type { Check, CheckId, ReportInterface, UplinkFacts } from './types';

// The report's checks: pure functions of what was read, one verdict each.
// A problem fails the report (exit 1); a hint is worth knowing but not wrong.

export interface CheckInput {
  readonly interfaces: readonly ReportInterface[];
  readonly uplink: UplinkFacts;
  /** --no-default-route: clients are meant to have none. */
  readonly defaultRoute: boolean;
  /** The gateway address (--gateway). */
  readonly gateway: string;
}

const ok = (id: CheckId): Check => ({ id, verdict: 'ok' });
const problem = (id: CheckId, details: readonly string[]): Check =>
  details.length === 0 ? ok(id) : { id, verdict: 'problem', detail: details.join('; ') };

const isDefault = (r: Route): boolean => r.dst === 'default';
const inSharedSpace = (address: string): boolean => address.startsWith('100.64.');
const names = (list: readonly ReportInterface[]): string => list.map((i) => i.ifname).join(', ');

function clientDefaultRoute({ interfaces, defaultRoute }: CheckInput): Check {
  const id = 'client-default-route';
  const bare = interfaces.filter((i) => i.kind === 'client' && !i.current.routes.some(isDefault));
  if (bare.length === 0) return ok(id);
  if (!defaultRoute) return { id, verdict: 'hint', detail: `${names(bare)}: no default route, as --no-default-route asks` };
  return problem(id, [`client link ${names(bare)} has no default route: this VM reaches nothing beyond its provider`]);
}

/** Two default routes with one metric: the kernel uses one and the other is dead weight. */
function defaultRouteMetrics({ interfaces }: CheckInput): Check {
  const byMetric = new Map<number, string[]>();
  for (const i of interfaces) {
    for (const r of i.current.routes.filter(isDefault)) byMetric.set(r.metric, [...(byMetric.get(r.metric) ?? []), i.ifname]);
  }
  const clashes = [...byMetric].filter(([, ifs]) => ifs.length > 1);
  return problem(
    'default-route-metrics',
    clashes.map(([metric, ifs]) => `default routes on ${ifs.join(', ')} share metric ${metric}: only one of them is used`),
  );
}

/** An address in 100.64.0.0/16 that no link's MAC stands for. */
function unownedAddresses({ interfaces }: CheckInput): Check {
  const found: string[] = [];
  for (const i of interfaces) {
    for (const a of i.current.addrs.filter((x) => inSharedSpace(x.address))) {
      if (i.expected?.addr?.address === a.address) continue;
      const why = i.expected ? `its MAC stands for ${i.expected.addr?.address ?? 'none (refused)'}` : `${i.kind} link, not inter-guest`;
      found.push(`${a.address}/${a.prefix} on ${i.ifname} belongs to no link (${why})`);
    }
  }
  return problem('unowned-addresses', found);
}

/** Links whose MACs derive the same client address: none of them gets it (see collision.ts). */
function clientAddressCollisions({ interfaces }: CheckInput): Check {
  const seen = new Map<string, string>();
  for (const i of interfaces) if (i.collision) seen.set(`${i.collision.role} ${i.collision.address}`, collisionText(i.collision));
  return problem('client-address-collisions', [...seen.values()]);
}

/**
 * What only guestnet puts on links, on a link that is not inter-guest: the
 * gateway address, a route with guestnet's mark. `ip` acts by name, so a
 * link renamed while it applied can receive them (100.64 addresses there
 * are unowned-addresses' finding).
 */
function misplacedState({ interfaces, gateway }: CheckInput): Check {
  const found: string[] = [];
  for (const i of interfaces.filter((x) => x.kind === 'hardware' || x.kind === 'ignored')) {
    for (const a of i.current.addrs.filter((x) => x.address === gateway)) found.push(`gateway address ${a.address}/${a.prefix} on ${i.kind} link ${i.ifname}`);
    for (const r of i.current.routes.filter((x) => x.proto === RTPROT_GUESTNET)) found.push(`route ${r.dst} marked as guestnet's on ${i.kind} link ${i.ifname}`);
  }
  return problem('misplaced-state', found.length > 0 ? [`${found.join('; ')}: guestnet never puts these there (a link renamed while ip applied?); remove them`] : []);
}

function providerForwarding({ interfaces, uplink }: CheckInput): Check {
  const providers = interfaces.filter((i) => i.kind === 'provider');
  if (providers.length === 0 || uplink.forwarding) return ok('provider-forwarding');
  const { error, drift } = uplink.table;
  const why = error ?? drift;
  const because = why === undefined ? '' : ` (left off, fail closed: the firewall is not in place: ${why})`;
  return problem('provider-forwarding', [`provider link ${names(providers)} but net.ipv4.ip_forward is 0${because}: clients reach only this VM`]);
}

/**
 * Decided by the admin flag and the carrier, not operstate: the kernel updates
 * operstate up to a second after a link comes up, so a report right after
 * `apply` would see "down" on a healthy link.
 */
function interGuestLinksUp({ interfaces }: CheckInput): Check {
  const found: string[] = [];
  for (const i of interfaces.filter((x) => x.kind === 'client' || x.kind === 'provider')) {
    if (!i.up) found.push(`${i.kind} link ${i.ifname} is down`);
    else if (i.carrier === false) found.push(`${i.kind} link ${i.ifname} has no carrier: the other end is down or gone`);
  }
  return problem('inter-guest-links-up', found);
}

/**
 * A provider passes traffic on through another link that has an address: a
 * hardware NIC (netvm) or its own client link (a VPN VM). Loopback is no way out.
 */
function providerUplinkAddress({ interfaces }: CheckInput): Check {
  const id = 'provider-uplink-address';
  if (!interfaces.some((i) => i.kind === 'provider')) return ok(id);
  const others = interfaces.filter((i) => i.kind !== 'provider' && i.kind !== 'ignored');
  const outward = interfaces.filter((i) => i.kind !== 'provider' && i.current.addrs.some((a) => !a.address.startsWith('127.')));
  if (outward.length > 0) return ok(id);
  const where = others.length > 0 ? `no address on ${names(others)}` : 'no link besides the provider links';
  return problem(id, [`${where}: clients reach nothing beyond this VM`]);
}

/** The firewall (boundary and masquerade) missing, drifted or unreadable: what `apply` would fix. */
function uplinkTable({ uplink: { table } }: CheckInput): Check {
  if (table.error !== undefined) return problem('uplink-table', [`firewall table inet guestnet cannot be read: ${table.error}`]);
  if (!table.drifted) return ok('uplink-table');
  return problem('uplink-table', [`firewall: ${table.drift ?? 'differs from the expected table'}: run guestnet apply`]);
}

const CHECKS: readonly ((input: CheckInput) => Check)[] = [
  clientDefaultRoute,
  defaultRouteMetrics,
  unownedAddresses,
  clientAddressCollisions,
  misplacedState,
  providerForwarding,
  interGuestLinksUp,
  providerUplinkAddress,
  uplinkTable,
];

export function runChecks(input: CheckInput): Check[] {
  return CHECKS.map((check) => check(input));
}
