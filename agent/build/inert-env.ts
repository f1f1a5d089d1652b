// The environment variables bun's runtime obeys before any of guestnet's
// code runs, made inert in the copy of the runtime the executable is built
// on. bun offers no build-time switch for them (only .env, bunfig.toml,
// tsconfig.json and package.json have one: agent/build/compile.ts), and a
// check in guestnet's entry would come too late: a preload has run by then,
// and under BUN_BE_BUN the entry never runs at all.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Each name loads code, opens a debugger, writes a file where the caller
 * says, or makes the executable another program. (BUN_JSC_* is checked
 * byte by byte in bun's code, not through a name: agent/entry/environment.ts.)
 */
export const INERT_NAMES = [
  'BUN_BE_BUN', // runs bun's own command line instead of guestnet
  'BUN_OPTIONS', // runtime flags: --preload, --inspect, --config, --env-file
  'BUN_INSPECT', // the debugger: evaluates any code sent to it
  'BUN_INSPECT_CONNECT_TO',
  'BUN_INSPECT_PRELOAD',
  'BUN_BYTECODE_ORDER_OUT', // profiles written to a path of the caller's choosing
  'BUN_BYTECODE_ORDER_NAMES_OUT',
  'BUN_BYTECODE_DIGEST_OUT',
  'NODE_REDIRECT_WARNINGS', // warnings written to a path of the caller's choosing
  'BUN_CRASH_REPORT_URL', // where crash reports (memory, paths) are sent
] as const;

/**
 * Empties each name where the runtime keeps it as a string of its own
 * (NUL before and after: a C string, or a Zig literal with its sentinel):
 * its first byte becomes NUL, and no environment entry can match a name
 * that starts with NUL. Names inside longer strings (messages, bun's own
 * JavaScript) are left as they are. Returns how many copies of each it emptied.
 */
export function emptyNames(runtime: Uint8Array, names: readonly string[]): Map<string, number> {
  const bytes = Buffer.from(runtime.buffer, runtime.byteOffset, runtime.byteLength);
  const counts = new Map<string, number>();
  for (const name of names) {
    const needle = Buffer.from(`\0${name}\0`, 'latin1');
    let count = 0;
    for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + needle.length - 1)) {
      bytes[at + 1] = 0;
      count++;
    }
    counts.set(name, count);
  }
  return counts;
}

/**
 * Writes `out`, a copy of the runtime at `path` with INERT_NAMES emptied,
 * and returns `out`. Throws when a name is not found: a bun release that
 * reads it some other way must be looked at before guestnet ships on it.
 */
export function inertRuntime(path: string, out: string): string {
  const bytes = readFileSync(path);
  const missing = [...emptyNames(bytes, INERT_NAMES)].filter(([, n]) => n === 0).map(([name]) => name);
  if (missing.length > 0) throw new Error(`${path}: no ${missing.join(', ')} to make inert; has bun changed how it reads them?`);
  copyFileSync(path, out); // keeps the mode
  writeFileSync(out, bytes);
  return out;
}
