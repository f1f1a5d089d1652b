import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { detectFlavor } from '../apply/ip-backend';
import { EnvironmentError } from '../errors';
import type { Logger } from '../log';
import { IpMonitorEvents } from './events-ip-monitor';
import { NetlinkEvents } from './events-netlink';
import { PollEvents } from './events-poll';
import type { EventSource } from './source';

// Picks where the watcher hears that links changed (the sources' contract
// is source.ts).

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

/** nf_tables events about guestnet's table; an EnvironmentError when they cannot be had (no bun, no nfnetlink). */
export function openTableEvents(): Promise<EventSource> {
  return NetlinkEvents.openTable();
}
