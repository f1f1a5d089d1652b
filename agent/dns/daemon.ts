// `guestnet dns` once its options are checked: bind, drop privileges, serve,
// follow the upstreams, keep the state file, until SIGTERM. Load only under
// bun (its sockets are bun's and libc's).

import { chownSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { normalJit } from '../engine';
import { EnvironmentError } from '../errors';
import type { Logger } from '../log';
import { RateLimiter } from './limits';
import { serveTcp, serveUdp } from './servers';
import { bindFree } from './sockets-bun';
import { writeState, type DnsState } from './state';
import { UdpForwarder } from './udp-forwarder';
import { UpstreamSet } from './upstream-set';
import { formatEndpoint, parseResolvConf, type Endpoint } from './upstreams';
import type { Ids } from './users';

export interface DnsOptions {
  readonly listen: Endpoint;
  /** Fixed upstreams (--upstream), or undefined to follow `resolvConf`. */
  readonly upstreams: readonly Endpoint[] | undefined;
  readonly resolvConf: string;
  /** The user to become after binding; undefined when not running as root. */
  readonly user: { readonly name: string; readonly ids: Ids } | undefined;
  readonly stateDir: string;
  readonly rate: number;
  /** Called once the sockets are bound and privileges dropped. */
  readonly ready: () => Promise<void>;
}

/** How often resolv.conf is read again (DHCP hooks rename it or rewrite it in place; both show). */
const FOLLOW_MS = 500;
/** How often pending UDP queries are checked for time-outs. */
const SWEEP_MS = 100;

function readUpstreams(path: string, self: Endpoint): Endpoint[] {
  try {
    return parseResolvConf(readFileSync(path, 'utf8'), self);
  } catch {
    return []; // no file yet (no lease): clients get SERVFAIL until there is one
  }
}

/** setgroups, setgid, setuid: from here on the process holds no capability. */
function dropPrivileges(ids: Ids): void {
  const { setgroups, setgid, setuid } = process;
  if (!setgroups || !setgid || !setuid) throw new EnvironmentError('cannot drop privileges: no setuid in this runtime');
  setgroups([]);
  setgid(ids.gid);
  setuid(ids.uid);
}

/** Binds both sockets, makes the state directory, then gives up root: the descriptors. */
function bindAndDrop(opts: DnsOptions): { udpFd: number; tcpFd: number } {
  const udpFd = bindFree('udp', opts.listen);
  const tcpFd = bindFree('tcp', opts.listen);
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o755 });
  if (opts.user) {
    chownSync(opts.stateDir, opts.user.ids.uid, opts.user.ids.gid);
    dropPrivileges(opts.user.ids);
  }
  return { udpFd, tcpFd };
}

function stateOf(opts: DnsOptions, upstreams: UpstreamSet, source: string): DnsState {
  const f = upstreams.lastFailure;
  return {
    pid: process.pid,
    listening: `${opts.listen.address}:${opts.listen.port}`,
    upstreams: upstreams.all.map(formatEndpoint),
    source,
    user: opts.user?.name ?? `uid ${process.getuid?.()}`,
    ...(f ? { lastFailure: { upstream: formatEndpoint(f.upstream), what: f.what, at: new Date(f.at).toISOString() } } : {}),
  };
}

/**
 * Every FOLLOW_MS: read the upstreams again, log a new upstream failure
 * (at most one line per tick however many queries failed), and rewrite the
 * state file when something changed.
 */
function ticker(opts: DnsOptions, upstreams: UpstreamSet, log: Logger): () => void {
  const source = opts.upstreams ? '--upstream' : opts.resolvConf;
  let logged = upstreams.lastFailure;
  return () => {
    if (upstreams.replace(opts.upstreams ?? readUpstreams(opts.resolvConf, opts.listen))) {
      log.log('info', undefined, `dns: upstreams ${upstreams.all.map(formatEndpoint).join(', ') || '(none)'} from ${source}`);
    }
    const f = upstreams.lastFailure;
    if (f && f !== logged) log.log('warn', undefined, `dns: upstream ${formatEndpoint(f.upstream)}: ${f.what}`);
    logged = f;
    if (!upstreams.dirty) return;
    upstreams.dirty = false;
    try {
      writeState(opts.stateDir, stateOf(opts, upstreams, source));
    } catch (err) {
      log.log('warn', undefined, `dns: cannot write the state file in ${opts.stateDir}: ${(err as Error).message}`);
    }
  };
}

/** Runs the resolver until SIGTERM or SIGINT. */
export async function serveDns(opts: DnsOptions, log: Logger): Promise<void> {
  normalJit(); // a long-running forwarder: its hot path is worth optimising
  const { udpFd, tcpFd } = bindAndDrop(opts);
  const upstreams = new UpstreamSet();
  const tick = ticker(opts, upstreams, log);
  tick();
  const udp = new UdpForwarder(upstreams);
  await udp.open();
  const deps = { udp, upstreams, limiter: new RateLimiter(opts.rate) };
  const udpServer = await serveUdp(udpFd, deps);
  const tcpServer = serveTcp(tcpFd, deps);
  const timers = [setInterval(tick, FOLLOW_MS), setInterval(() => udp.sweep(), SWEEP_MS)];
  log.log('info', undefined, `dns: listening on ${opts.listen.address}:${opts.listen.port} (UDP and TCP)`);
  await opts.ready();
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  for (const t of timers) clearInterval(t);
  udpServer.close();
  tcpServer.stop();
  udp.close();
  rmSync(join(opts.stateDir, 'state.json'), { force: true });
}
