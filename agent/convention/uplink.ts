// The provider's uplink (SPEC §7) as plain data: the one nftables table
// guestnet owns on a VM with provider links. Pure; backends turn it into an
// `nft` script or nf_tables netlink messages, and read it back into the
// same shape, so "does the kernel match?" is a structural comparison.

/** The client address space: matched by address, never by interface name. */
export const CLIENT_NET = { address: '100.64.0.0', prefix: 16 } as const;

export const UPLINK_TABLE = 'guestnet';

/** `ip saddr|daddr [!=] A/P`, or a verdict; `other` is anything we did not write. */
export type UplinkExpr =
  | { readonly match: 'saddr' | 'daddr'; readonly negate: boolean; readonly address: string; readonly prefix: number }
  | { readonly verdict: 'masquerade' | 'drop' }
  | { readonly other: string };

export interface UplinkChain {
  readonly name: string;
  readonly type: 'nat' | 'filter';
  readonly hook: 'postrouting' | 'forward';
  readonly priority: number;
  readonly policy: 'accept' | 'drop';
  /** Each rule is its expressions, in order. */
  readonly rules: readonly (readonly UplinkExpr[])[];
}

/** `table ip guestnet`, chains in the order they are created. */
export interface UplinkTable {
  readonly chains: readonly UplinkChain[];
}

export interface UplinkOptions {
  /** Source-NAT client traffic leaving 100.64.0.0/16 (`--no-masquerade` clears it). */
  readonly masquerade: boolean;
  /** Drop forwarded client-to-client traffic (`--allow-client-to-client` clears it). */
  readonly isolate: boolean;
}

export const DEFAULT_UPLINK: UplinkOptions = { masquerade: true, isolate: true };

const from = (negate: boolean): UplinkExpr => ({ match: 'saddr', negate, ...CLIENT_NET });
const to = (negate: boolean): UplinkExpr => ({ match: 'daddr', negate, ...CLIENT_NET });

// Priorities nft names srcnat (100) and filter (0).
const MASQUERADE: UplinkChain = {
  name: 'postrouting', type: 'nat', hook: 'postrouting', priority: 100, policy: 'accept',
  rules: [[from(false), to(true), { verdict: 'masquerade' }]],
};
const ISOLATION: UplinkChain = {
  name: 'forward', type: 'filter', hook: 'forward', priority: 0, policy: 'accept',
  rules: [[from(false), to(false), { verdict: 'drop' }]],
};

/**
 * The table a VM should hold: undefined without a provider link, and also
 * when both options are off (an empty table would do nothing).
 */
export function desiredUplink(hasProvider: boolean, options: UplinkOptions): UplinkTable | undefined {
  if (!hasProvider) return undefined;
  const chains = [...(options.masquerade ? [MASQUERADE] : []), ...(options.isolate ? [ISOLATION] : [])];
  return chains.length > 0 ? { chains } : undefined;
}

/** One line per expression, as `nft` would print it. */
export function exprText(e: UplinkExpr): string {
  if ('match' in e) return `ip ${e.match} ${e.negate ? '!= ' : ''}${e.address}/${e.prefix}`;
  return 'verdict' in e ? e.verdict : `(${e.other})`;
}

function chainKey(c: UplinkChain): string {
  const rules = c.rules.map((r) => r.map(exprText).join(' '));
  return [c.name, c.type, c.hook, c.priority, c.policy, ...rules].join('\n');
}

/** Structural equality; chain and rule order matter, as they do to the kernel. */
export function sameUplink(a: UplinkTable | undefined, b: UplinkTable | undefined): boolean {
  if (!a || !b) return a === b;
  return a.chains.length === b.chains.length && a.chains.every((c, i) => chainKey(c) === chainKey(b.chains[i]));
}
