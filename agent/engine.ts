// What guestnet asks of JavaScriptCore, and why. Under node (the tests)
// there is nothing to ask: each call does nothing there.

/**
 * The executable starts with the JIT's tier-up thresholds × 100
 * (agent/build/compile.ts): a run over a few links ends before optimised
 * code would repay its compiling, which costs CPU on the other core and
 * megabytes of the compilers' own pages. Work that grows with the links (a
 * dump of hundreds), a long-running watcher and the resolver (`dns`) turn
 * the normal policy back on (bench/SCALE.md has the trade at 256 links).
 */
export const MANY_ENTRIES = 512;

/** JavaScriptCore's normal tier-up policy from now on. */
export function normalJit(): void {
  if (typeof Bun !== 'undefined') Bun.unsafe.setJITPolicy(1);
}

/** Passes over more links than this collect garbage at the start of each round. */
const COLLECT_MIN_LINKS = 128;

/**
 * A full collection before a round of a pass over many links: discovery's
 * dump and the last round's requests and acks leave megabytes of garbage,
 * which JavaScriptCore would otherwise let the next read pile on top of
 * (peak RSS at 1,024 links ~4 MiB lower, at 4,096 ~10 MiB, for ~4 and ~16
 * ms; more calls, e.g. also after each read, cost 3x as much for ~nothing).
 */
export function collectGarbage(links: number): void {
  if (links > COLLECT_MIN_LINKS && typeof Bun !== 'undefined') Bun.gc(true);
}
