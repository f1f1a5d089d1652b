// A Backend that talks rtnetlink directly instead of spawning `ip`.
import type { Backend } from '../apply/backend';
import type { UplinkDriver } from '../apply/uplink-driver';
import { writeLinkSysctls } from '../apply/settings-files';
import { runVmStep } from '../apply/vm-steps';
import type { Addr, KernelState, Link, LinkState, Route } from '../convention/types';
import { EnvironmentError } from '../errors';
import type { FoundTables } from '../nft/decode';
import { NftNetlink } from '../nft/netlink';
import { NETLINK_NETFILTER } from '../nft/nfnl';
import { sameRoute } from '../plan/planner';
import { isLinkStep, type Outcome, type Step, type StepOf, type VmStep } from '../plan/steps';
import { IP_FORWARD, PROC_SYS, readForwarding, readLinkSysctls } from '../state/procfs';
import { NetlinkChannel } from './channel';
import { ENODEV, ENOENT, errnoText } from './errno';
import type { NlMessage } from './message';
import { decodeAddr, decodeRoute, dumpAddrs, dumpLinks, dumpRoutes, parseDst } from './rtnl';
import { decodeLinkInfo, dumpAddrsOf, dumpRoutesOf, getLinkAt, getLinkNamed, getRouteMatch } from './rtnl-read';
import { SyscallError, type NetlinkSocket } from './socket';
import { encodeStep, toOutcome, type RequestStep } from './step-requests';

export interface NetlinkBackendOptions {
  /** Where IPv4 forwarding is read and switched on (tests point it elsewhere). */
  readonly forwardingPath?: string;
  /** Where links' sysctls are read and written (/proc/sys). */
  readonly procSys?: string;
  /** The uplink table's driver; nf_tables over its own netlink socket unless told. */
  readonly uplink?: UplinkDriver;
}

// Up to this many links, readState asks for each one's addresses and routes
// (two small dumps a link); beyond it, one dump of each for all links is cheaper.
const PER_LINK_MAX = 8;

/**
 * One link's address dump, and its route dump when `routes` (not for a link
 * that is down: the kernel flushes a link's IPv4 routes when it goes down
 * and refuses new ones while it is, so there is nothing to find). That saves
 * a new link's first read a walk of the whole main table, which costs as
 * much as the routes of every other link. A link that came up meanwhile is
 * planned "up" first, which makes converge() read it again.
 */
function narrowedDumps(link: Link, routes: boolean): [Uint8Array, ReadonlySet<number>][] {
  const only = new Set([link.ifindex]);
  const addrs: [Uint8Array, ReadonlySet<number>] = [dumpAddrsOf(0, link.ifindex), only];
  return routes ? [addrs, [dumpRoutesOf(0, link.ifindex), only]] : [addrs];
}

// Where a look-up for a default route is aimed: any address no route of
// guestnet's but the default covers (TEST-NET-1). Should a foreign route
// cover it, the look-up finds that one and the link's routes are dumped.
const DEFAULT_PROBE = Uint8Array.of(192, 0, 2, 1);

/** The address whose look-up through a link finds `route` if the link has it. */
function probeAddress(route: Route): Uint8Array {
  return route.dst === 'default' ? DEFAULT_PROBE : parseDst(route.dst).bytes;
}

export class NetlinkBackend implements Backend {
  readonly name = 'netlink';
  private readonly channel: NetlinkChannel;
  private readonly forwardingPath: string;
  private readonly procSys: string;
  private readonly uplink: UplinkDriver;

  constructor(
    private readonly socket: NetlinkSocket,
    options: NetlinkBackendOptions = {},
  ) {
    this.channel = new NetlinkChannel(socket);
    this.forwardingPath = options.forwardingPath ?? IP_FORWARD;
    this.procSys = options.procSys ?? PROC_SYS;
    this.uplink = options.uplink ?? netfilterDriver();
  }

  /** `nft list table inet guestnet`, over nf_tables netlink. */
  readUplink(): Promise<FoundTables> {
    return this.uplink.read();
  }

  /** `ip link show`: every link, from one RTM_GETLINK dump. */
  listLinks(): Link[] {
    return this.channel.dumpDecoded(dumpLinks(0), decodeLinkInfo).sort((a, b) => a.ifindex - b.ifindex);
  }

  /**
   * `ip -4 addr show` + `ip -4 route show table main` + `sysctl net.ipv4.ip_forward`
   * + the links' sysctls (their groups, and mostly their sysctls, came with the links);
   * for a few links (a watcher's event), only theirs, so the cost does not
   * grow with the number of links the kernel holds. `expected` routes are
   * looked up one by one where that settles them (see confirmRoutes).
   */
  async readState(links: readonly Link[], expected?: ReadonlyMap<number, readonly Route[]>): Promise<KernelState> {
    const byIndex = new Map<number, { addrs: Addr[]; routes: Route[] }>();
    const states = new Map<string, LinkState>();
    const perLink = links.length <= PER_LINK_MAX;
    const confirmed = new Set<number>();
    for (const link of links) {
      const wanted = perLink && link.up ? expected?.get(link.ifindex) : undefined;
      const routes = wanted && this.confirmRoutes(link, wanted);
      if (routes) confirmed.add(link.ifindex);
      const state = { addrs: [], routes: routes ?? [], sysctls: link.sysctls ?? readLinkSysctls(link.name, this.procSys) };
      byIndex.set(link.ifindex, state);
      states.set(link.name, state);
    }
    // Each dump is read for the links it was asked for: a kernel without
    // strict checking answers a narrowed dump with everything.
    const dumps: [Uint8Array, ReadonlySet<number>][] = perLink
      ? links.flatMap((l) => narrowedDumps(l, l.up && !confirmed.has(l.ifindex)))
      : [[dumpAddrs(0), new Set(byIndex.keys())], [dumpRoutes(0), new Set(byIndex.keys())]];
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

  /**
   * The routes of `link` when it holds every one of `wanted`, each found by
   * `ip route get fibmatch` (one walk down the routing trie) instead of a
   * dump (a walk of the whole table). A look-up finds the best route
   * through the link towards its address, so one answer that is anything
   * but the wanted route (missing, another metric or gateway, a shorter
   * prefix, another table) leaves the question to the dump: undefined. What
   * look-ups cannot see are routes towards other places; callers ask this
   * only for links where none of guestnet's can be (new ones).
   */
  private confirmRoutes(link: Link, wanted: readonly Route[]): Route[] | undefined {
    const found: Route[] = [];
    for (const route of wanted) {
      let answer: NlMessage | undefined;
      try {
        answer = this.channel.get(getRouteMatch(0, link.ifindex, probeAddress(route)));
      } catch (err) {
        if (err instanceof SyscallError) return undefined; // unreachable, or a kernel without fibmatch
        throw err;
      }
      const match = answer && decodeRoute(answer);
      if (!match || match.oif !== link.ifindex || !sameRoute(match.route, route)) return undefined;
      found.push(match.route);
    }
    return found;
  }

  /**
   * Dumps that answer "nothing there" with an error hold nothing: a narrowed
   * dump of a link gone meanwhile answers ENODEV, and a route dump of table
   * main answers ENOENT while that table does not exist yet (a namespace
   * where no address or route was ever added, not even lo's).
   */
  private dumpOrGone<T>(request: Uint8Array, decode: (msg: NlMessage) => T | undefined): T[] {
    try {
      return this.channel.dumpDecoded(request, decode);
    } catch (err) {
      if (err instanceof SyscallError && (err.errno === ENODEV || err.errno === ENOENT)) return [];
      throw err;
    }
  }

  /**
   * Resolves interface names once (from `known`, the links the plan was
   * made for, when given: the requests then go to the very links whose
   * state was read), writes the link-set steps' sysctls, sends every link
   * step's request (so the sysctls precede any link-up), then matches the
   * answers to the steps; the VM-wide steps (forwarding, the uplink table)
   * follow. One outcome per step, in order.
   */
  async apply(steps: readonly Step[], known?: ReadonlyMap<string, Link>): Promise<Outcome[]> {
    let links: ReadonlyMap<string, Link> | undefined = known;
    const outcomes: Outcome[] = new Array<Outcome>(steps.length);
    const owners: number[] = []; // the k-th request is for steps[owners[k]]
    const indexes: number[] = []; // and goes to link indexes[k]
    const vmSteps: number[] = [];
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      if (!isLinkStep(step)) {
        vmSteps.push(i);
        continue;
      }
      // A link-set step is a request only for its group, its sysctls being files.
      const written = step.action === 'link-set' ? this.writeSysctls(step) : undefined;
      if (written) {
        outcomes[i] = written;
        continue;
      }
      links ??= this.linksNamed(steps.flatMap((s) => (isLinkStep(s) ? [s.ifname] : [])));
      const index = links.get(step.ifname)?.ifindex;
      if (index === undefined) {
        outcomes[i] = { step, error: errnoText(ENODEV) };
        continue;
      }
      owners.push(i);
      indexes.push(index);
    }
    // Encoded window by window as the channel sends them.
    const answers = this.channel.transact(owners.length, (k) => {
      const step = steps[owners[k]] as RequestStep;
      try {
        return encodeStep(step, indexes[k]);
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

  /** A link-set step's sysctl writes: its outcome when that is all of it (no group) or they failed. */
  private writeSysctls(step: StepOf<'link-set'>): Outcome | undefined {
    const error = writeLinkSysctls(step, this.procSys);
    if (error !== undefined) return { step, error };
    return step.group === undefined ? { step } : undefined;
  }

  /**
   * The named links: asked for one by one when there are a few (a
   * watcher's event), else from one RTM_GETLINK dump, so a small plan does
   * not cost a dump of every link the kernel holds.
   */
  linksNamed(names: readonly string[]): Map<string, Link> {
    const wanted = new Set(names);
    const links = new Map<string, Link>();
    if (wanted.size <= PER_LINK_MAX) {
      for (const name of wanted) {
        const link = this.linkNamed(name);
        if (link) links.set(link.name, link);
      }
      return links;
    }
    for (const link of this.channel.dumpDecoded(dumpLinks(0), decodeLinkInfo)) if (wanted.has(link.name)) links.set(link.name, link);
    return links;
  }

  /** The link with this ifindex, from one RTM_GETLINK; undefined when there is none. */
  linkAt(ifindex: number): Link | undefined {
    return this.oneLink(getLinkAt(0, ifindex));
  }

  /** `ip link show dev NAME`; undefined when there is no such link. */
  private linkNamed(name: string): Link | undefined {
    return this.oneLink(getLinkNamed(0, name));
  }

  private oneLink(request: Uint8Array): Link | undefined {
    try {
      const answer = this.channel.get(request);
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
  let socket: NetlinkSocket;
  try {
    // Inside the try: loading socket-bun loads libc, which could fail too.
    const { openNetlinkSocket } = await import('./socket-bun');
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
