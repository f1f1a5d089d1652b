import { errorParts } from './errors';
import { writeErr } from './output';

// One line per event on stderr: guests log to a write-only serial console.

export type LogFormat = 'human' | 'json';
export type Level = 'error' | 'warn' | 'info' | 'debug';

const RANK: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export type Fields = Readonly<Record<string, unknown>>;

export interface Logger {
  log(level: Level, ifname: string | undefined, msg: string, fields?: Fields): void;
  /** An error that ends the run (or a watcher's pass): `guestnet: IFACE: error: what`, like per-interface lines. */
  fatal(err: unknown, fields?: Fields): void;
}

export interface LoggerOptions {
  readonly format: LogFormat;
  /** -1 quiet (errors only), 0 normal, 1 verbose. */
  readonly verbosity: number;
  readonly write?: (line: string) => void;
}

/** Text held back at most: a boot pass over 4,096 links logs ~1 MB in one turn. */
const BATCH_MAX = 64 * 1024;

/**
 * Gathers the lines logged in one turn of the event loop into one write(2)
 * (or one per BATCH_MAX): a pass over 64 links logs ~320 lines, which cost
 * ~3 ms as separate writes. Order is kept; the lines go out before anything
 * the next turn does.
 */
export function batched(write: (text: string) => void): (line: string) => void {
  let pending = '';
  const flush = (): void => {
    const text = pending;
    pending = '';
    if (text !== '') write(text);
  };
  return (line) => {
    if (pending === '') queueMicrotask(flush);
    pending += line;
    if (pending.length >= BATCH_MAX) flush();
  };
}

export function createLogger({ format, verbosity, write = batched(writeErr) }: LoggerOptions): Logger {
  const max = verbosity < 0 ? RANK.error : verbosity > 0 ? RANK.debug : RANK.info;
  return {
    fatal(err, fields) {
      // JSON keeps the names in `msg` (no `ifname`: it may be several).
      if (format === 'json') return this.log('error', undefined, err instanceof Error ? err.message : String(err), fields);
      const { ifnames, what } = errorParts(err);
      this.log('error', ifnames.join(', ') || undefined, what, fields);
    },
    log(level, ifname, msg, fields = {}) {
      if (RANK[level] > max) return;
      if (format === 'json') {
        write(JSON.stringify({ time: new Date().toISOString(), level, ...(ifname ? { ifname } : {}), msg, ...fields }) + '\n');
      } else {
        const tag = level === 'error' || level === 'warn' ? `${level}: ` : '';
        write(`guestnet: ${ifname ? `${ifname}: ` : ''}${tag}${msg}\n`);
      }
    },
  };
}

/** A logger that drops everything, for callers that only want the result. */
export const silentLogger: Logger = { log: () => undefined, fatal: () => undefined };
