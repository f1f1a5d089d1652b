import type { Backend } from '../apply/backend';
import { EnvironmentError } from '../errors';
import { openEventSource, openTableEvents, type EventsOptions } from '../watch/events';
import { PollEvents } from '../watch/events-poll';
import { checkNotifyFd, notifyFd, notifySystemd } from '../io/notify';
import { Watcher } from '../watch/watcher';
import type { Context, InterfaceResult } from './common';
import { normalJit } from '../engine';

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

// Retries before readiness when some links failed at start: 1 s, doubling to 30 s.
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

function failures(results: readonly InterfaceResult[]): string {
  return results.filter((r) => !r.ok).map((r) => `${r.ifname}: ${r.error ?? 'failed'}`).join('; ');
}

/**
 * Resolves once a pass configured every inter-guest link present (at once
 * when the first one did). If the first pass configured none of them, the
 * watcher can do nothing here (no privilege, say): an EnvironmentError.
 * Undefined when a stop signal came first.
 */
async function untilConfigured(
  first: readonly InterfaceResult[],
  watcher: Watcher,
  ctx: Context,
  stopped: Promise<NodeJS.Signals>,
): Promise<NodeJS.Signals | undefined> {
  if (first.length > 0 && first.every((r) => !r.ok)) {
    throw new EnvironmentError(`cannot configure any inter-guest interface (${failures(first)})`);
  }
  let results = first;
  for (let delay = RETRY_FIRST_MS; results.some((r) => !r.ok); delay = Math.min(2 * delay, RETRY_MAX_MS)) {
    ctx.log.log('warn', undefined, `not ready: ${failures(results)}; retrying in ${delay / 1000} s`, { event: 'not-ready' });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), delay)));
    const signal = await Promise.race([stopped, waited]);
    clearTimeout(timer);
    if (signal !== undefined) return signal;
    results = await watcher.resync();
  }
  return undefined;
}

async function announceReady(opts: WatchOptions, ctx: Context, proc: ProcessLike, events: string): Promise<void> {
  ctx.log.log('info', undefined, `ready: first apply done; watching links (${events} events)`, { event: 'ready', events });
  // Long-running from here: events repeat the same code, which the JIT repays.
  normalJit();
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
  // Only `auto` may swap a failed source for polling; an explicit choice is kept or the watch ends.
  const fallback = opts.events === 'auto' ? () => new PollEvents(opts.pollMs) : undefined;
  const watcher = new Watcher(backend, ctx, { debounceMs: opts.debounceMs, tableEvents: openTableEvents, ...(fallback ? { fallback } : {}) });
  const { stopped, cancel } = stopSignal(proc);
  const hangup = (): void => {
    ctx.log.log('info', undefined, 'SIGHUP: re-applying every interface', { event: 'reapply' });
    watcher.reapply();
  };
  proc.on('SIGHUP', hangup);
  const keepAlive = setInterval(() => undefined, KEEPALIVE_MS);
  try {
    const ended = Promise.race([stopped, watcher.failure]);
    ended.catch(() => undefined); // awaited below; not unhandled meanwhile
    const first = await Promise.race([watcher.start(source), watcher.failure]);
    const early = await Promise.race([untilConfigured(first, watcher, ctx, ended), watcher.failure]);
    const events = watcher.eventSource ?? source.name;
    if (early === undefined) await announceReady(opts, ctx, proc, events);
    const signal = early ?? (await ended);
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
