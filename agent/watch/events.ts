import { detectFlavor } from '../apply/ip-backend';
import { EnvironmentError } from '../errors';
import type { Logger } from '../log';
import { IpMonitorEvents } from './events-ip-monitor';
import { NetlinkEvents } from './events-netlink';
import { PollEvents } from './events-poll';

// Where the watcher hears that links changed. Events are only hints: each
// one makes the watcher re-read /sys/class/net and compare, so a source may
// repeat, merge or lose detail, as long as it wakes the watcher after a change.

export interface EventSink {
  /** Links may have changed; `lost` says why details were lost, for the log. */
  changed(lost?: string): void;
  /** The source stopped working; the watcher falls back to polling. */
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

function ipMonitor(ipBinary: string): EventSource {
  if (detectFlavor(ipBinary) !== 'iproute2') {
    throw new EnvironmentError(`${ipBinary} is not iproute2 (busybox ip has no monitor)`);
  }
  return new IpMonitorEvents(ipBinary);
}

/**
 * The source the user asked for; `auto` takes the first that works of
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
