import { createBackend } from '../apply/select-backend';
import { context, type GlobalArgs } from '../entry/args';
import { watch, type WatchOptions } from '../commands/watch';
import { UsageError } from '../errors';
import { writeOut } from '../output';
import type { EventsName } from './events';

// `guestnet watch` for the CLI, as entry/handlers.ts does for the other commands:
// typed arguments in, result printed, ok out.

export interface WatchArgs extends GlobalArgs {
  events: EventsName;
  'poll-interval': number;
  debounce: number;
  'notify-fd'?: number;
}

function inRange(name: string, v: number, lo: number, hi: number): number {
  if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new UsageError(`--${name}: "${v}" is not an integer from ${lo} to ${hi}`);
  return v;
}

export function watchOptions(args: WatchArgs): WatchOptions {
  const fd = args['notify-fd'];
  return {
    events: args.events,
    ipBinary: args['ip-binary'],
    pollMs: inRange('poll-interval', args['poll-interval'], 10, 60_000),
    debounceMs: inRange('debounce', args.debounce, 0, 1000),
    ...(fd === undefined ? {} : { notifyFd: inRange('notify-fd', fd, 3, 65_535) }),
  };
}

/** Runs until SIGTERM/SIGINT; ok, since per-link failures were logged and retried. */
export async function runWatch(args: WatchArgs): Promise<{ ok: boolean }> {
  const opts = watchOptions(args);
  const ctx = await context(args);
  const backend = await createBackend(args.backend, args['ip-binary'], ctx.sysfs);
  try {
    const r = await watch(opts, backend, ctx);
    if (args.json) writeOut(JSON.stringify({ ...r, backend: backend.name }, null, 2) + '\n');
    return { ok: true };
  } finally {
    backend.close?.();
  }
}
