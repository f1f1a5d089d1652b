import { PROVIDER_SETTINGS } from './link-settings';
import { SCHEMES } from './scheme';
import type { Addr, DeriveOptions, Desired, Kind, Link, Role, Route } from './types';

const ARPHRD_ETHER = 1;

/**
 * Client default routes get distinct metrics so several provider links
 * coexist (SPEC §4). The metric is a function of the MAC alone, so a
 * per-interface hotplug run needs no knowledge of the other links: the link
 * with the lowest client address is preferred.
 */
export const CLIENT_METRIC_BASE = 1024;

/** The client address 100.64.PP.QQ that a MAC ending in PP:QQ encodes. */
export function clientAddress(mac: Uint8Array): string {
  return `100.64.${mac[4]}.${mac[5]}`;
}

export function roleOf(mac: Uint8Array, options: DeriveOptions): Role | undefined {
  return SCHEMES[options.scheme](mac);
}

/** client/provider for inter-guest links; hardware or ignored for the rest (SPEC §1). */
export function kindOf(link: Link, mac: Uint8Array, options: DeriveOptions): Kind {
  if (link.name === 'lo' || link.type !== ARPHRD_ETHER || mac.every((o) => o === 0)) return 'ignored';
  return roleOf(mac, options) ?? 'hardware';
}

/** The addresses and routes the convention asks for on one inter-guest link (SPEC §3), and a provider link's settings (§9). */
export function deriveDesired(ifname: string, mac: Uint8Array, role: Role, options: DeriveOptions): Desired & { readonly addr: Addr } {
  const client = clientAddress(mac);
  const gw = options.gateway;
  if (role === 'provider') {
    return {
      ifname,
      role,
      client,
      addr: { address: gw, prefix: 32 },
      routes: [{ dst: `${client}/32`, metric: 0 }],
      settings: PROVIDER_SETTINGS,
    };
  }
  const metric = CLIENT_METRIC_BASE + mac[4] * 256 + mac[5];
  const routes: Route[] = [{ dst: `${gw}/32`, metric }];
  if (options.defaultRoute) routes.push({ dst: 'default', via: gw, metric });
  return { ifname, role, client, addr: { address: client, prefix: options.clientPrefix }, routes };
}
