/**
 * The executable starts with JavaScriptCore's tier-up thresholds × 100
 * (agent/build/compile.ts): a run over a few links ends before optimised
 * code would repay its compiling, which costs CPU on the other core and
 * megabytes of the compilers' own pages. Work that grows with the links
 * (a dump of hundreds) and a long-running watcher turn the normal policy
 * back on. Under node (the tests) there is nothing to turn.
 */

/** A dump of this many entries is work that repays the JIT. */
export const MANY_ENTRIES = 512;

/** JavaScriptCore's normal tier-up policy from now on. */
export function normalJit(): void {
  if (typeof Bun !== 'undefined') Bun.unsafe.setJITPolicy(1);
}
