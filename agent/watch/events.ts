import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { detectFlavor } from '../apply/ip-backend';
import type { Link } from '../convention/types';
import { EnvironmentError } from '../errors';
import type { Logger } from '../log';
import { IpMonitorEvents } from './events-ip-monitor';
import { NetlinkEvents } from './events-netlink';
import { PollEvents } from './events-poll';

// Where the watcher hears that links changed. Events are only hints: the
// watcher reads the kernel's state of the links they name before planning,
// so a source may repeat, merge or lose detail, as long as it wakes the
// watcher after a change (and says so when it lost some).

export interface EventSink {
  /** Something changed, no detail: re-list the links and compare. */
  changed(): void;
  /** Events were lost (`why`, for the log): re-read and re-apply everything. */
  lost(why: string): void;
  /** A link notification: the link as the kernel has it now, or just removed. */
  link(link: Link, removed: boolean): void;
  /** An IPv4 address or route on this link was removed. */
  state(ifindex: number): void;
  /** The source stopped working: `auto` falls back to polling, an explicit choice ends the watch. */
  failed(err: Error): void;
}

export interface EventSource {
  readonly name: string;
  start(sink: EventSink): void;
  /** Stops listening and releases what start() took (fd, child, timer). */
  stop(): Promise<void>;
}

export type EventsName = 'auto' | 'netlink' | 'ip-monitor' | 'poll';
export const EVENTS_NAMES: readonly EventsName[] = ['auto', 'netlink', 'ip-monitor', 'poll'];

export interface EventsOptions {
  readonly events: EventsName;
  readonly ipBinary: string;
  readonly pollMs: number;
}

/** Whether `binary` (a path, or a name looked up in PATH) is an executable file. */
function runnable(binary: string): boolean {
  const dirs = binary.includes('/') ? [''] : (process.env.PATH ?? '').split(delimiter);
  return dirs.some((dir) => {
    try {
      accessSync(dir ? join(dir, binary) : binary, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function ipMonitor(ipBinary: string): EventSource {
  if (!runnable(ipBinary)) throw new EnvironmentError(`cannot run "${ipBinary}" for ip-monitor events: not found`);
  if (detectFlavor(ipBinary) !== 'iproute2') {
    throw new EnvironmentError(`cannot use "${ipBinary}" for ip-monitor events: not iproute2 (busybox ip has no monitor)`);
  }
  return new IpMonitorEvents(ipBinary);
}

/**
 * The source the user asked for, or an EnvironmentError naming why it
 * cannot run (an explicit choice is never swapped for another); `auto` takes the first that works of
 * netlink (needs bun's FFI), `ip monitor` (needs iproute2), polling sysfs.
 */
export async function openEventSource(opts: EventsOptions, log: Logger): Promise<EventSource> {
  switch (opts.events) {
    case 'netlink':
      return NetlinkEvents.open();
    case 'ip-monitor':
      return ipMonitor(opts.ipBinary);
    case 'poll':
      return new PollEvents(opts.pollMs);
    case 'auto':
      break;
  }
  for (const open of [() => NetlinkEvents.open(), async () => ipMonitor(opts.ipBinary)]) {
    try {
      return await open();
    } catch (err) {
      log.log('debug', undefined, `event source unavailable: ${(err as Error).message}`);
    }
  }
  return new PollEvents(opts.pollMs);
}
