// The provider's boundary (SPEC §7, §9) as plain data: what clients may do,
// derived from the options. Pure; nft/ruleset.ts turns it into nf_tables.
import { UsageError } from '../errors';
import { PROVIDER_GROUP } from './provider-group';

/** The client address space: matched by address, never by interface name. */
export const CLIENT_NET = { address: '100.64.0.0', prefix: 16 } as const;

/** Link-local (RFC 3927): never forwarded, either way. */
export const LINK_LOCAL_NET = { address: '169.254.0.0', prefix: 16 } as const;

export interface OpenPort {
  readonly proto: 'tcp' | 'udp';
  readonly port: number;
}

/** `--client-flow-limit`: a number, `auto` (derived from nf_conntrack_max) or `off`. */
export type FlowLimitOption = number | 'auto' | 'off';

export interface BoundaryOptions {
  /** Source-NAT client traffic leaving 100.64.0.0/16 (`--no-masquerade` clears it). */
  readonly masquerade: boolean;
  /** Drop forwarded client-to-client traffic (`--allow-client-to-client` clears it). */
  readonly isolate: boolean;
  readonly flowLimit: FlowLimitOption;
  /** `--open-port`: services of the image opened to clients on the gateway address. */
  readonly openPorts: readonly OpenPort[];
}

export const DEFAULT_BOUNDARY: BoundaryOptions = { masquerade: true, isolate: true, flowLimit: 'auto', openPorts: [] };

/** What the firewall enforces. */
export interface Boundary {
  readonly gateway: string;
  readonly clientNet: typeof CLIENT_NET;
  readonly masquerade: boolean;
  readonly isolate: boolean;
  /** New forwarded flows per client beyond this are dropped; undefined: no limit. */
  readonly flowLimit: number | undefined;
  readonly openPorts: readonly OpenPort[];
  readonly providerGroup: number;
  /** Offered to clients on the gateway address (the provider's DNS forwarder). */
  readonly dnsPort: 53;
}

/** Without nf_conntrack_max or /proc/meminfo to go by: a 1 GiB guest's default. */
export const FALLBACK_CONNTRACK_MAX = 8192;
const MIN_FLOW_LIMIT = 256;

/**
 * nf_conntrack_max as Linux sets it when nf_conntrack loads (64-bit, no
 * sysctl): RAM / 16 KiB / 8, at least 1024; 65536 above 1 GiB, 262144
 * above 4 GiB. Used before the module is loaded, so the default does not
 * change once the firewall's first rule loads it.
 */
export function kernelConntrackMax(memBytes: number): number {
  if (memBytes > 4 * 2 ** 30) return 262144;
  if (memBytes > 2 ** 30) return 65536;
  return Math.max(1024, Math.floor(memBytes / 16384 / 8));
}

/** The default per-client share: an eighth of the conntrack table, at least 256 flows. */
export function defaultFlowLimit(conntrackMax: number): number {
  return Math.max(MIN_FLOW_LIMIT, Math.floor(conntrackMax / 8));
}

/** The boundary for these options; `conntrackMax` resolves `auto`. */
export function deriveBoundary(options: BoundaryOptions, gateway: string, conntrackMax: number): Boundary {
  const { flowLimit } = options;
  return {
    gateway,
    clientNet: CLIENT_NET,
    masquerade: options.masquerade,
    isolate: options.isolate,
    flowLimit: flowLimit === 'off' ? undefined : flowLimit === 'auto' ? defaultFlowLimit(conntrackMax) : flowLimit,
    openPorts: options.openPorts,
    providerGroup: PROVIDER_GROUP,
    dnsPort: 53,
  };
}

/** `--client-flow-limit N|off|auto`. */
export function parseFlowLimit(text: string): FlowLimitOption {
  if (text === 'off' || text === 'auto') return text;
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (Number.isSafeInteger(n) && n >= 1 && n <= 0xffffffff) return n;
  throw new UsageError(`--client-flow-limit: "${text}" is not a number of flows from 1 to 4294967295, "auto" or "off"`);
}

/** `--open-port tcp/8080`; the same port twice counts once. */
export function parseOpenPorts(texts: readonly string[]): OpenPort[] {
  const ports: OpenPort[] = [];
  for (const text of texts) {
    const m = /^(tcp|udp)\/([0-9]{1,5})$/.exec(text);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) throw new UsageError(`--open-port: "${text}" is not PROTO/PORT (tcp or udp, port 1-65535)`);
    const proto = m[1] as OpenPort['proto'];
    if (!ports.some((p) => p.proto === proto && p.port === port)) ports.push({ proto, port });
  }
  return ports;
}
