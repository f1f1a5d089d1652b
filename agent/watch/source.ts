import type { Link } from '../convention/types';

// What an event source and the watcher say to each other: its own module,
// so events.ts (which picks a source) and the sources need not import each other.
// Events are only hints: the watcher reads the kernel's state of what they
// name before planning, so a source may repeat, merge or lose detail, as
// long as it wakes the watcher after a change (and says so when it lost some).

export interface EventSink {
  /** Something changed, no detail: re-list the links and compare. */
  changed(): void;
  /** Events were lost (`why`, for the log): re-read and re-apply everything. */
  lost(why: string): void;
  /** A link notification: the link as the kernel has it now, or just removed. */
  link(link: Link, removed: boolean): void;
  /** An IPv4 address or route on this link was removed. */
  state(ifindex: number): void;
  /** guestnet's nftables table may have changed (`lost`: table events were lost, for the log): re-read it. */
  table(lost?: string): void;
  /** The source stopped working: `auto` falls back to polling, an explicit choice ends the watch. */
  failed(err: Error): void;
}

export interface EventSource {
  readonly name: string;
  start(sink: EventSink): void;
  /** Stops listening and releases what start() took (fd, child, timer). */
  stop(): Promise<void>;
}
