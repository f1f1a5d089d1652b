import { parseMac } from '../convention/mac';
import { deriveDesired, kindOf } from '../convention/derive';
import type { DeriveOptions, Desired, Kind, Link } from '../convention/types';
import { UsageError } from '../errors';

export interface Classified {
  readonly link: Link;
  readonly kind: Kind;
  /** Present for client and provider links. */
  readonly desired?: Desired;
}

/** A link guestnet configures: a client or provider end, with its desired state. */
export type TargetLink = Classified & { readonly desired: Desired };

export function isTarget(c: Classified): c is TargetLink {
  return c.desired !== undefined;
}

/** Interface names as the kernel allows them: 1-15 bytes, no '/', ':' or white space. */
const IFNAME_RE = /^[^\s/:]{1,15}$/;

export function checkIfname(name: string): string {
  if (!IFNAME_RE.test(name) || name === '.' || name === '..') {
    throw new UsageError(`"${name}" is not a valid interface name`);
  }
  return name;
}

export function classify(link: Link, options: DeriveOptions): Classified {
  let mac: Uint8Array;
  try {
    mac = parseMac(link.mac);
  } catch {
    return { link, kind: 'ignored' }; // not an Ethernet-style address
  }
  const kind = kindOf(link, mac, options);
  if (kind === 'client' || kind === 'provider') {
    return { link, kind, desired: deriveDesired(link.name, mac, kind, options) };
  }
  return { link, kind };
}

/** The links the user named (all of them if none), failing on names that do not exist. */
export function selectLinks(links: readonly Link[], names: readonly string[]): Link[] {
  if (names.length === 0) return [...links];
  const byName = new Map(links.map((l) => [l.name, l]));
  const missing = names.filter((n) => !byName.has(n));
  if (missing.length > 0) {
    throw new UsageError('no such interface', missing);
  }
  return [...new Set(names)].map((n) => byName.get(n) as Link);
}
