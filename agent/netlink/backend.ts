// A Backend that talks rtnetlink directly instead of spawning `ip`.
import type { Backend } from '../apply/backend';
import type { UplinkDriver } from '../apply/uplink-driver';
import { runVmStep } from '../apply/vm-steps';
import type { Addr, KernelState, Link, LinkState, Route } from '../convention/types';
import { EnvironmentError } from '../errors';
import type { UplinkTable } from '../convention/uplink';
import { NftNetlink } from '../nft/netlink';
import { NETLINK_NETFILTER } from '../nft/nfnl';
import { isLinkStep, type LinkStep, type Outcome, type Step, type VmStep } from '../plan/steps';
import { IP_FORWARD, readForwarding } from '../state/procfs';
import { NetlinkChannel } from './channel';
import { EADDRNOTAVAIL, EEXIST, ENODEV, ENOENT, ESRCH, errnoText } from './errno';
import type { NlError, NlMessage } from './message';
import {
  addrAdd, addrDel, decodeAddr, decodeLink, decodeRoute, dumpAddrs, dumpLinks, dumpRoutes,
  linkUp, routeAdd, routeDel,
} from './rtnl';
import { decodeLinkInfo, dumpAddrsOf, dumpRoutesOf, getLinkNamed } from './rtnl-read';
import { SyscallError, type NetlinkSocket } from './socket';

export interface NetlinkBackendOptions {
  /** Where IPv4 forwarding is read and switched on (tests point it elsewhere). */
  readonly forwardingPath?: string;
  /** The uplink table's driver; nf_tables over its own netlink socket unless told. */
  readonly uplink?: UplinkDriver;
}

// Up to this many links, readState asks for each one's addresses and routes
// (two small dumps a link); beyond it, one dump of each for all links is cheaper.
const PER_LINK_MAX = 8;

// Answers that mean "already so", which concurrent runs must treat as success.
const ALREADY_ADDED: readonly number[] = [EEXIST];
const ALREADY_GONE: readonly number[] = [ESRCH, EADDRNOTAVAIL, ENOENT];

/** The request for one step, sequence number left 0 for the channel to fill. */
function encodeStep(step: LinkStep, index: number): Uint8Array {
  switch (step.action) {
    case 'link-up': return linkUp(0, index);
    case 'addr-add': return addrAdd(0, index, step.addr);
    case 'addr-del': return addrDel(0, index, step.addr);
    case 'route-add': return routeAdd(0, index, step.route);
    case 'route-del': return routeDel(0, index, step.route);
  }
}

function toOutcome(step: Step, answer: NlError): Outcome {
  if (answer.errno === 0) return { step };
  const tolerated = step.action === 'addr-del' || step.action === 'route-del' ? ALREADY_GONE : ALREADY_ADDED;
  if (tolerated.includes(answer.errno)) return { step };
  return { step, error: errnoText(answer.errno, answer.message) };
}

export class NetlinkBackend implements Backend {
  readonly name = 'netlink';
  private readonly channel: NetlinkChannel;
  private readonly forwardingPath: string;
  private readonly uplink: UplinkDriver;

  constructor(
    private readonly socket: NetlinkSocket,
    options: NetlinkBackendOptions = {},
  ) {
    this.channel = new NetlinkChannel(socket);
    this.forwardingPath = options.forwardingPath ?? IP_FORWARD;
    this.uplink = options.uplink ?? netfilterDriver();
  }

  /** `nft list table ip guestnet`, over nf_tables netlink. */
  readUplink(): Promise<UplinkTable | undefined> {
    return this.uplink.read();
  }

  /** `ip link show`: every link, from one RTM_GETLINK dump. */
  listLinks(): Link[] {
    return this.channel.dumpDecoded(dumpLinks(0), decodeLinkInfo).sort((a, b) => a.ifindex - b.ifindex);
  }

  /**
   * `ip -4 addr show` + `ip -4 route show table main` + `sysctl net.ipv4.ip_forward`;
   * for a few links (a watcher's event), only theirs, so the cost does not
   * grow with the number of links the kernel holds.
   */
  async readState(links: readonly Link[]): Promise<KernelState> {
    const byIndex = new Map<number, { addrs: Addr[]; routes: Route[] }>();
    const states = new Map<string, LinkState>();
    for (const link of links) {
      const state = { addrs: [], routes: [] };
      byIndex.set(link.ifindex, state);
      states.set(link.name, state);
    }
    // Each dump is read for the links it was asked for: a kernel without
    // strict checking answers a narrowed dump with everything.
    const dumps: [Uint8Array, ReadonlySet<number>][] = links.length > PER_LINK_MAX
      ? [[dumpAddrs(0), new Set(byIndex.keys())], [dumpRoutes(0), new Set(byIndex.keys())]]
      : links.flatMap((l) => [[dumpAddrsOf(0, l.ifindex), new Set([l.ifindex])], [dumpRoutesOf(0, l.ifindex), new Set([l.ifindex])]]);
    for (const [request, wanted] of dumps) {
      // Decoded as they arrive: nothing of the dump is kept but what is wanted.
      const entries = this.dumpOrGone(request, (msg) => {
        const addr = decodeAddr(msg);
        if (addr) return wanted.has(addr.index) ? addr : undefined;
        const route = decodeRoute(msg);
        return route && wanted.has(route.oif) ? route : undefined;
      });
      for (const e of entries) {
        if ('addr' in e) byIndex.get(e.index)?.addrs.push(e.addr);
        else byIndex.get(e.oif)?.routes.push(e.route);
      }
    }
    return { links: states, forwarding: readForwarding(this.forwardingPath) };
  }

  /** A narrowed dump of a link that is gone meanwhile answers ENODEV: it holds nothing. */
  private dumpOrGone<T>(request: Uint8Array, decode: (msg: NlMessage) => T | undefined): T[] {
    try {
      return this.channel.dumpDecoded(request, decode);
    } catch (err) {
      if (err instanceof SyscallError && err.errno === ENODEV) return [];
      throw err;
    }
  }

  /**
   * Resolves interface names once, sends every link step's request (each
   * built as its window goes out), then matches the acks to the steps; the
   * VM-wide steps (forwarding, the uplink table) follow. One outcome per step, in order.
   */
  async apply(steps: readonly Step[]): Promise<Outcome[]> {
    let indexes: Map<string, number> | undefined;
    const outcomes: Outcome[] = new Array<Outcome>(steps.length);
    const owners: number[] = []; // the k-th request is for steps[owners[k]]
    const vmSteps: number[] = [];
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      if (!isLinkStep(step)) vmSteps.push(i);
      else if ((indexes ??= this.resolveNames(steps)).has(step.ifname)) owners.push(i);
      else outcomes[i] = { step, error: errnoText(ENODEV) };
    }
    const answers = this.channel.transact(owners.length, (k) => {
      const step = steps[owners[k]] as LinkStep;
      try {
        return encodeStep(step, indexes?.get(step.ifname) as number);
      } catch (err) {
        outcomes[owners[k]] = { step, error: (err as Error).message };
        return undefined;
      }
    });
    for (let k = 0; k < answers.length; k++) {
      const answer = answers[k];
      if (answer) outcomes[owners[k]] = toOutcome(steps[owners[k]], answer);
    }
    for (const i of vmSteps) outcomes[i] = await runVmStep(steps[i] as VmStep, this.uplink, this.forwardingPath);
    return outcomes;
  }

  /**
   * Interface name to index for the steps' links: asked one by one for a
   * few links (a watcher's event), else from one RTM_GETLINK dump, so a
   * small plan does not cost a dump of every link the kernel holds.
   */
  private resolveNames(steps: readonly Step[]): Map<string, number> {
    const names = new Set(steps.flatMap((s) => (isLinkStep(s) ? [s.ifname] : [])));
    const indexes = new Map<string, number>();
    if (names.size <= PER_LINK_MAX) {
      for (const name of names) {
        const link = this.linkNamed(name);
        if (link) indexes.set(link.name, link.ifindex);
      }
      return indexes;
    }
    for (const link of this.channel.dumpDecoded(dumpLinks(0), decodeLink)) indexes.set(link.name, link.index);
    return indexes;
  }

  /** `ip link show dev NAME`; undefined when there is no such link. */
  private linkNamed(name: string): Link | undefined {
    try {
      const answer = this.channel.get(getLinkNamed(0, name));
      return answer && decodeLinkInfo(answer);
    } catch (err) {
      if (err instanceof SyscallError && err.errno === ENODEV) return undefined;
      throw err;
    }
  }

  close(): void {
    this.socket.close();
    this.uplink.close?.();
  }
}

/**
 * Opens an rtnetlink socket through bun:ffi. Only the bun runtime (and so
 * the compiled binary) can do this; node gets a clear EnvironmentError, and
 * never loads bun:ffi because the import below is not reached.
 */
export async function createNetlinkBackend(options: NetlinkBackendOptions = {}): Promise<NetlinkBackend> {
  if (typeof Bun === 'undefined') {
    throw new EnvironmentError('the netlink backend needs the bun runtime (the compiled guestnet binary)');
  }
  const { openNetlinkSocket } = await import('./socket-bun');
  let socket: NetlinkSocket;
  try {
    socket = openNetlinkSocket();
  } catch (err) {
    throw new EnvironmentError(`cannot open a netlink socket: ${(err as Error).message}`);
  }
  return new NetlinkBackend(socket, options);
}

/** nf_tables over a NETLINK_NETFILTER socket, opened on first use (bun only). */
export function netfilterDriver(): NftNetlink {
  return new NftNetlink(async () => (await import('./socket-bun')).openNetlinkSocket(NETLINK_NETFILTER));
}
