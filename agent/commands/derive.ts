import { deriveDesired, roleOf } from '../convention/derive';
import { formatMac, parseMac } from '../convention/mac';
import type { Addr, DeriveOptions, Role, Route } from '../convention/types';
import { UsageError } from '../errors';

export interface DeriveResult {
  readonly mac: string;
  readonly role: Role;
  readonly addr: Addr;
  readonly routes: readonly Route[];
}

/** `guestnet derive MAC`: the role, address and routes a MAC stands for. */
export function derive(macText: string, options: DeriveOptions): DeriveResult {
  const mac = parseMac(macText);
  const role = roleOf(mac, options);
  if (!role) {
    throw new UsageError(`${formatMac(mac)} is not an inter-guest MAC under scheme "${options.scheme}"`);
  }
  const desired = deriveDesired('IFACE', mac, role, options);
  return { mac: formatMac(mac), role, addr: desired.addr, routes: desired.routes };
}
