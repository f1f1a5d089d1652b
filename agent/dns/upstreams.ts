// Where queries go: the netvm's own resolvers (the `nameserver` lines of
// /etc/resolv.conf, as its DHCP client writes them) or --upstream. Pure.

import { UsageError } from '../errors';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export const DNS_PORT = 53;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export const formatEndpoint = (e: Endpoint): string => (e.port === DNS_PORT ? e.address : `${e.address}:${e.port}`);
export const sameEndpoint = (a: Endpoint, b: Endpoint): boolean => a.address === b.address && a.port === b.port;

/** `A.B.C.D` or `A.B.C.D:PORT` as typed after `option`; throws UsageError naming it. */
export function parseEndpoint(text: string, option: string): Endpoint {
  const [address, port, ...more] = text.split(':');
  const portNumber = port === undefined ? DNS_PORT : Number(port);
  if (more.length > 0 || !IPV4.test(address) || !Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
    throw new UsageError(`${option}: "${text}" is not an IPv4 address with an optional :PORT`);
  }
  return { address, port: portNumber };
}

/**
 * The IPv4 `nameserver` lines of a resolv.conf, in order, without `self`
 * (a netvm whose resolv.conf names the gateway would ask itself). IPv6
 * servers are skipped: the forwarder speaks IPv4 towards upstreams.
 */
export function parseResolvConf(text: string, self: Endpoint): Endpoint[] {
  const servers: Endpoint[] = [];
  for (const line of text.split('\n')) {
    const [keyword, address] = line.trim().split(/\s+/);
    if (keyword !== 'nameserver' || !IPV4.test(address ?? '')) continue;
    const server = { address, port: DNS_PORT };
    if (!sameEndpoint(server, self) && !servers.some((s) => sameEndpoint(s, server))) servers.push(server);
  }
  return servers;
}

export const sameEndpoints = (a: readonly Endpoint[], b: readonly Endpoint[]): boolean =>
  a.length === b.length && a.every((e, i) => sameEndpoint(e, b[i]));
