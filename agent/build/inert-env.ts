// The environment variables bun's runtime obeys before any of guestnet's
// code runs, made inert in the copy of the runtime the executable is built
// on. bun offers no build-time switch for them (only .env, bunfig.toml,
// tsconfig.json and package.json have one: agent/build/compile.ts), and a
// check in guestnet's entry would come too late: a preload has run by then,
// under BUN_BE_BUN the entry never runs at all, and JavaScriptCore has
// applied BUN_JSC_* options (a JIT dump written where the caller says).
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Each name loads code, opens a debugger, writes a file where the caller
 * says, or makes the executable another program. (BUN_JSC_* is checked
 * byte by byte in bun's code, not through a name: skipEngineOptions.)
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
  // The one engine option bun reads again apart from skipEngineOptions' loop
  // (a prefix compare when it starts a thread guestnet was not seen to start).
  'BUN_JSC_useConcurrentJIT=',
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

/** The prefix bun's loop over the environment compares, one byte at a time. */
const ENGINE_PREFIX = Buffer.from('BUN_JSC_', 'latin1');

/**
 * x86_64: `cmp byte [base+i], PREFIX[i]` then `jne next` for i = 0..7 from
 * `at`, on one base register, all to one target: the offset of the first
 * jne, or -1. (A SIB byte or a disp32 is not decoded: a build using one
 * fails the search.)
 */
function x86Chain(bytes: Buffer, at: number): number {
  let base = -1;
  let target = -1;
  let first = -1;
  let p = at;
  for (let i = 0; i < ENGINE_PREFIX.length; i++) {
    const rex = (bytes[p] & 0xf0) === 0x40 ? bytes[p++] : 0;
    if (bytes[p++] !== 0x80) return -1;
    const modrm = bytes[p++];
    const [mod, op, rm] = [modrm >> 6, (modrm >> 3) & 7, modrm & 7];
    if (op !== 7 || rm === 4) return -1; // not cmp r/m8, imm8, or a SIB byte follows
    const disp = mod === 0 && rm !== 5 ? 0 : mod === 1 ? bytes[p++] : -1;
    if (disp !== i || bytes[p++] !== ENGINE_PREFIX[i]) return -1;
    const reg = ((rex & 1) << 3) | rm;
    if (base >= 0 && reg !== base) return -1;
    base = reg;
    const branch = p;
    if (bytes[p] === 0x75) p += 2; // jne rel8
    else if (bytes[p] === 0x0f && bytes[p + 1] === 0x85) p += 6; // jne rel32
    else return -1;
    const to = p + (p - branch === 2 ? bytes.readInt8(branch + 1) : bytes.readInt32LE(branch + 2));
    if (target >= 0 && to !== target) return -1;
    target = to;
    if (first < 0) first = branch;
  }
  return first;
}

/**
 * aarch64: `ldrb wT, [xS, #i]`, `cmp wT, #PREFIX[i]`, `b.ne next` for
 * i = 0..7 from `at`, on one base register, all to one target: the offset
 * of the first b.ne, or -1.
 */
function arm64Chain(bytes: Buffer, at: number): number {
  let base = -1;
  let target = -1;
  for (let i = 0; i < ENGINE_PREFIX.length; i++) {
    const p = at + i * 12;
    if (p + 12 > bytes.length) return -1;
    const [load, cmp, branch] = [bytes.readUInt32LE(p), bytes.readUInt32LE(p + 4), bytes.readUInt32LE(p + 8)];
    const [rt, rn] = [load & 31, (load >> 5) & 31];
    if ((load & 0xffc00000) >>> 0 !== 0x39400000 || ((load >> 10) & 0xfff) !== i) return -1; // ldrb, unsigned offset i
    if (cmp !== (0x7100001f | (ENGINE_PREFIX[i] << 10) | (rt << 5)) >>> 0) return -1; // cmp wT, #imm
    if ((branch & 0xff00001f) >>> 0 !== 0x54000001) return -1; // b.ne
    const to = p + 8 + (((branch << 8) >> 13) << 2);
    if ((base >= 0 && rn !== base) || (target >= 0 && to !== target)) return -1;
    [base, target] = [rn, to];
  }
  return at + 8;
}

/** ELF e_machine values. */
export const X86_64 = 62;
export const AARCH64 = 183;

/**
 * BUN_JSC_* are JavaScriptCore's options (useJITDump with jitDumpDirectory
 * writes a file where the caller says). bun applies them while it starts
 * (JSCInitialize): for each environment entry, `if (env[0] != 'B' || ...
 * || env[7] != '_') continue;` then JSC::Options::setOption(env + 8), all
 * compiled to byte compares, with no name to empty. This makes the first
 * compare's conditional branch unconditional, to the same `continue`: the
 * loop still walks the environment but sets no option. (A compared byte
 * made 0 instead would let an entry "BUN" followed by the entry "JSC_x=1"
 * match: the compares read on past its NUL.) bun's own settings, the JIT
 * policy among them, are not environment entries. Returns the file offset
 * rewritten; throws unless the compares are found exactly once: a bun
 * release that compiles them differently must be looked at before
 * guestnet ships on it.
 */
export function skipEngineOptions(runtime: Uint8Array, machine: number): number {
  const bytes = Buffer.from(runtime.buffer, runtime.byteOffset, runtime.byteLength);
  const found = new Set<number>();
  if (machine === X86_64) {
    // Each compare is 0x80 after an optional REX byte (tried with and without).
    for (let at = bytes.indexOf(0x80); at >= 0; at = bytes.indexOf(0x80, at + 1)) {
      for (const start of [at - 1, at]) {
        const branch = start >= 0 ? x86Chain(bytes, start) : -1;
        if (branch >= 0) found.add(branch);
      }
    }
  } else if (machine === AARCH64) {
    // Instructions are 4-byte aligned in the file as in memory; the chain starts with ldrb wT, [xS].
    for (let at = 0; at + 4 <= bytes.length; at += 4) {
      if ((bytes.readUInt32LE(at) & 0xfffffc00) >>> 0 !== 0x39400000) continue;
      const branch = arm64Chain(bytes, at);
      if (branch >= 0) found.add(branch);
    }
  } else {
    throw new Error(`ELF machine ${machine}: neither x86_64 nor aarch64`);
  }
  if (found.size !== 1) throw new Error(`BUN_JSC_ compares found ${found.size} times, not once; has bun changed how it reads them?`);
  const [at] = found;
  if (machine === AARCH64) {
    const words = (bytes.readUInt32LE(at) << 8) >> 13; // b.ne's imm19, in instructions
    bytes.writeUInt32LE((0x14000000 | (words & 0x3ffffff)) >>> 0, at); // b, same target
  } else if (bytes[at] === 0x75) {
    bytes[at] = 0xeb; // jne rel8 to jmp rel8
  } else {
    bytes.set([0x90, 0xe9], at); // jne rel32 (0f 85) to nop; jmp rel32
  }
  return at;
}

/**
 * Writes `out`, a copy of the runtime at `path` with INERT_NAMES emptied
 * and BUN_JSC_* skipped, and returns `out`. Throws when a name is not
 * found: a bun release that reads it some other way must be looked at
 * before guestnet ships on it.
 */
export function inertRuntime(path: string, out: string): string {
  const bytes = readFileSync(path);
  const missing = [...emptyNames(bytes, INERT_NAMES)].filter(([, n]) => n === 0).map(([name]) => name);
  if (missing.length > 0) throw new Error(`${path}: no ${missing.join(', ')} to make inert; has bun changed how it reads them?`);
  try {
    skipEngineOptions(bytes, bytes.readUInt16LE(18));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  copyFileSync(path, out); // keeps the mode
  writeFileSync(out, bytes);
  return out;
}
