// The boundary (convention/boundary.ts) as one nftables table, `table inet
// guestnet`: sets, chains and rules whose terms carry both the nft text and
// the netlink expressions, so one value prints as the `nft -f` script
// (--dry-run, the nft backend) and encodes as the nf_tables batch.
import { LINK_LOCAL_NET, type Boundary } from '../convention/boundary';
import {
  accept, ctState, dport, drop, fibSourceMissing, flowsOver, icmpEcho, ifGroup, ipAddr, isIpv6, jump, masquerade,
  notLoopback, type Term,
} from './terms';

export const TABLE = 'guestnet';
export const FLOWS_SET = 'flows';
/** Sets the flows set can hold: one element per client. */
const FLOWS_SIZE = 65535;

export type Hook = 'prerouting' | 'input' | 'forward' | 'postrouting';
export const HOOKS: Readonly<Record<Hook, number>> = { prerouting: 0, input: 1, forward: 2, postrouting: 4 };

export interface BaseChain {
  readonly type: 'filter' | 'nat';
  readonly hook: Hook;
  /** nft's raw (-300), filter (0), srcnat (100). */
  readonly priority: number;
  readonly policy: 'accept';
}

export interface Chain {
  readonly name: string;
  /** Absent for a chain reached only by `jump`. */
  readonly base?: BaseChain;
  readonly rules: readonly (readonly Term[])[];
}

/** A dynamic set of IPv4 addresses (the per-client flow counts). */
export interface NftSet {
  readonly name: string;
  readonly size: number;
}

export interface Ruleset {
  readonly sets: readonly NftSet[];
  readonly chains: readonly Chain[];
}

const filter = (hook: Hook, priority = 0): BaseChain => ({ type: 'filter', hook, priority, policy: 'accept' });

/** A client speaks only as itself: its source must route back through the link it came in on. */
function prerouting(b: Boundary): Chain {
  return { name: 'prerouting', base: filter('prerouting', -300), rules: [[ifGroup('iif', '==', b.providerGroup), fibSourceMissing, drop]] };
}

/** Provider links get what serves them; the LAN opens nothing new to the gateway address. */
function input(b: Boundary): Chain {
  const gw = ipAddr('daddr', '==', { address: b.gateway, prefix: 32 });
  return {
    name: 'input',
    base: filter('input'),
    rules: [[ifGroup('iif', '==', b.providerGroup), jump('from_client')], [gw, ctState('new'), notLoopback, drop]],
  };
}

function fromClient(b: Boundary): Chain {
  const gw = ipAddr('daddr', '==', { address: b.gateway, prefix: 32 });
  const ports = [{ proto: 'udp', port: b.dnsPort } as const, { proto: 'tcp', port: b.dnsPort } as const, ...b.openPorts];
  return {
    name: 'from_client',
    rules: [
      // Not `related`: forged ICMP errors never reach the stack (path MTU).
      [ctState('established'), accept],
      [gw, icmpEcho, accept],
      ...ports.map((p) => [gw, dport(p.proto, p.port), accept]),
      [drop],
    ],
  };
}

function forward(b: Boundary): Chain {
  const fromClient = ifGroup('iif', '==', b.providerGroup);
  const outward = ifGroup('oif', '!=', b.providerGroup);
  const limit = b.flowLimit === undefined ? [] : [[fromClient, outward, ctState('new'), flowsOver(FLOWS_SET, b.flowLimit), drop]];
  return {
    name: 'forward',
    base: filter('forward'),
    rules: [
      [ipAddr('daddr', '==', LINK_LOCAL_NET), drop],
      [ipAddr('saddr', '==', LINK_LOCAL_NET), drop],
      [ctState('established', 'related'), accept],
      [ctState('invalid'), drop],
      [fromClient, isIpv6, drop],
      ...limit,
      [fromClient, outward, accept],
      [fromClient, ifGroup('oif', '==', b.providerGroup), b.isolate ? drop : accept],
      // Nothing new from the LAN reaches a client.
      [ifGroup('oif', '==', b.providerGroup), drop],
    ],
  };
}

function postrouting(b: Boundary): Chain {
  const rule = [ipAddr('saddr', '==', b.clientNet), ipAddr('daddr', '!=', b.clientNet), masquerade];
  return { name: 'postrouting', base: { type: 'nat', hook: 'postrouting', priority: 100, policy: 'accept' }, rules: [rule] };
}

/** The table a VM with provider links holds. */
export function rulesetFor(b: Boundary): Ruleset {
  const chains = [prerouting(b), input(b), fromClient(b), forward(b), ...(b.masquerade ? [postrouting(b)] : [])];
  return { sets: b.flowLimit === undefined ? [] : [{ name: FLOWS_SET, size: FLOWS_SIZE }], chains };
}
