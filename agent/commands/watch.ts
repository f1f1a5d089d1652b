import type { Backend } from '../apply/backend';
import { openEventSource, type EventsOptions } from '../watch/events';
import { PollEvents } from '../watch/events-poll';
import { checkNotifyFd, notifyFd, notifySystemd } from '../watch/notify';
import { Watcher } from '../watch/watcher';
import type { Context } from './common';

export interface WatchOptions extends EventsOptions {
  readonly debounceMs: number;
  /** s6's notification-fd: written once, after the first full apply. */
  readonly notifyFd?: number;
}

export interface WatchResult {
  /** The signal that ended the watch. */
  readonly signal: NodeJS.Signals;
  readonly events: string;
}

/** What watch needs of the process, so tests can drive it without real signals. */
export interface ProcessLike {
  readonly env: NodeJS.ProcessEnv;
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

// Signal listeners do not keep the event loop alive, and a source (polling
// stopped, say) might not either; this timer does, at no cost.
const KEEPALIVE_MS = 2 ** 31 - 1;

/** Resolves on the first SIGTERM/SIGINT; a second one gets the default action (exit at once). */
function stopSignal(proc: ProcessLike): { stopped: Promise<NodeJS.Signals>; cancel: () => void } {
  let cancel = (): void => undefined;
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const listeners = STOP_SIGNALS.map((signal) => [signal, () => done(signal)] as const);
    cancel = () => listeners.forEach(([signal, listener]) => proc.off(signal, listener));
    const done = (signal: NodeJS.Signals): void => {
      cancel();
      resolve(signal);
    };
    listeners.forEach(([signal, listener]) => proc.on(signal, listener));
  });
  return { stopped, cancel };
}

async function announceReady(opts: WatchOptions, ctx: Context, proc: ProcessLike, events: string): Promise<void> {
  ctx.log.log('info', undefined, `ready: first apply done; watching links (${events} events)`, { event: 'ready', events });
  if (opts.notifyFd !== undefined) notifyFd(opts.notifyFd, ctx.log);
  await notifySystemd('READY=1', proc.env, ctx.log);
}

/**
 * `guestnet watch`: apply everything, then keep links configured as they
 * appear, vanish, are renamed or change MAC, until SIGTERM or SIGINT.
 * SIGHUP re-applies everything. The configuration stays in place on exit.
 */
export async function watch(opts: WatchOptions, backend: Backend, ctx: Context, proc: ProcessLike = process): Promise<WatchResult> {
  if (opts.notifyFd !== undefined) checkNotifyFd(opts.notifyFd);
  const source = await openEventSource(opts, ctx.log);
  const watcher = new Watcher(backend, ctx, { debounceMs: opts.debounceMs, fallback: () => new PollEvents(opts.pollMs) });
  const { stopped, cancel } = stopSignal(proc);
  const hangup = (): void => {
    ctx.log.log('info', undefined, 'SIGHUP: re-applying every interface', { event: 'reapply' });
    watcher.reapply();
  };
  proc.on('SIGHUP', hangup);
  const keepAlive = setInterval(() => undefined, KEEPALIVE_MS);
  try {
    await watcher.start(source);
    const events = watcher.eventSource ?? source.name;
    await announceReady(opts, ctx, proc, events);
    const signal = await stopped;
    ctx.log.log('info', undefined, `${signal}: stopping; the configuration stays in place`, { event: 'stopping' });
    await notifySystemd('STOPPING=1', proc.env, ctx.log);
    return { signal, events };
  } finally {
    cancel();
    proc.off('SIGHUP', hangup);
    clearInterval(keepAlive);
    await watcher.stop();
  }
}
