import { realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Addr, KernelState, Link, LinkState, Route } from '../convention/types';
import type { FoundTables } from '../nft/decode';
import { isLinkStep, type LinkStep, type Outcome, type Step, type StepOf } from '../plan/steps';
import { parseIpAddrOneline } from '../state/ip-addr';
import { parseIpJsonAddrs, parseIpJsonRoutes, splitJsonLines } from '../state/ip-json';
import { readForwarding, readLinkSysctls, readProcRoutes } from '../state/procfs';
import type { Backend } from './backend';
import { batchLine, classifyIpError, exitCause, ipArgs, type IpFlavor } from './ip-commands';
import { run, type RunResult } from './run';
import { writeGroupFile, writeLinkSysctls } from './settings-files';
import type { UplinkDriver } from './uplink-driver';
import { runVmStep } from './vm-steps';

/** busybox's `ip` applet is a link to busybox; anything else is taken for iproute2. */
export function detectFlavor(binary: string, path = process.env.PATH ?? ''): IpFlavor {
  const candidates = binary.includes('/') ? [binary] : path.split(delimiter).map((dir) => join(dir, binary));
  for (const candidate of candidates) {
    try {
      return realpathSync(candidate).includes('busybox') ? 'busybox' : 'iproute2';
    } catch {
      // not in this PATH entry
    }
  }
  return 'iproute2';
}

/** Maps `ip -force -batch` stderr ("...\nCommand failed -:N") to per-line error texts. */
export function parseBatchErrors(stderr: string): Map<number, string> {
  const errors = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^Command failed -:(\d+)$/.exec(line.trim());
    if (m) {
      errors.set(Number(m[1]), pending.join('\n'));
      pending = [];
    } else if (line.trim()) {
      pending.push(line);
    }
  }
  return errors;
}

/** One process for one step: its error text, or its signal or exit status when it said nothing. */
function stepCause(step: Step, out: RunResult): string | undefined {
  if (out.signal !== undefined || !out.stderr.trim()) return exitCause(out);
  return out.code === 0 ? undefined : classifyIpError(step, out.stderr);
}

/** Where the backend reads and writes a link's sysctls and (busybox) its group. */
export interface SettingsRoots {
  readonly procSys: string;
  readonly sysfs: string;
}

/**
 * Applies plans with the `ip` command: iproute2 runs the whole plan in one
 * `ip -force -batch -` process (a step whose interface name the batch
 * lexer cannot express runs in a process of its own); busybox (no -batch)
 * runs one process a step. Every process's exit status counts. The uplink
 * table goes through the driver it is given (`nft`, or netlink). Sysctls
 * are file writes, made before any process runs (so before any link-up).
 */
export class IpBackend implements Backend {
  readonly name: string;

  /** `ip` names links: a rename between reading and applying sends a step to another link. */
  readonly byName = true;

  /**
   * `netlink`, where the runtime has it (bun): the same kernel by ifindex,
   * for busybox's routes with their protocols (the ownership marks busybox
   * cannot print; without it, /proc/net/route) and for undoing what a
   * rename sent to another link (commands/misplaced.ts).
   */
  constructor(
    private readonly binary: string,
    private readonly flavor: IpFlavor,
    private readonly uplink: UplinkDriver,
    private readonly roots: SettingsRoots,
    private readonly netlink?: Backend,
  ) {
    this.name = `ip (${flavor})`;
  }

  byIndex(): Backend | undefined {
    return this.netlink;
  }

  readUplink(): Promise<FoundTables> {
    return this.uplink.read();
  }

  /**
   * iproute2: one `ip -4 -j -N -batch -` process for addresses and routes
   * with their protocols (the ownership marks). busybox prints no protocol:
   * `ip -o -4 addr show`, and the routes from `routes` (a route dump over
   * rtnetlink) or else /proc/net/route, and ownership by shape. The links'
   * sysctls come from /proc/sys (their groups came with the links).
   */
  async readState(links: readonly Link[]): Promise<KernelState> {
    const byIf = new Map<string, LinkState>();
    if (links.length === 0) return { links: byIf, forwarding: readForwarding() };
    const { addrs, routes } = this.flavor === 'iproute2' ? await this.readJson() : await this.readText(links);
    for (const { name } of links) {
      byIf.set(name, { addrs: addrs.get(name) ?? [], routes: routes.get(name) ?? [], sysctls: readLinkSysctls(name, this.roots.procSys) });
    }
    return { links: byIf, forwarding: readForwarding() };
  }

  private async readJson(): Promise<{ addrs: Map<string, Addr[]>; routes: Map<string, Route[]> }> {
    const out = await run(this.binary, ['-4', '-j', '-N', '-batch', '-'], 'addr show\nroute show table main\n');
    const arrays = splitJsonLines(out.stdout);
    if (out.code !== 0 || out.signal !== undefined || arrays.length !== 2) {
      throw new Error(`${this.binary} -j addr/route show: ${exitCause(out) ?? 'unexpected output'}`);
    }
    return { addrs: parseIpJsonAddrs(arrays[0]), routes: parseIpJsonRoutes(arrays[1]) };
  }

  private async readText(links: readonly Link[]): Promise<{ addrs: Map<string, Addr[]>; routes: Map<string, Route[]> }> {
    const out = await run(this.binary, ['-o', '-4', 'addr', 'show']);
    if (out.code !== 0 || out.signal !== undefined) throw new Error(`${this.binary} addr show: ${exitCause(out) ?? 'failed'}`);
    const routes = this.netlink && new Map([...(await this.netlink.readState(links)).links].map(([name, s]) => [name, [...s.routes]]));
    return { addrs: parseIpAddrOneline(out.stdout), routes: routes ?? readProcRoutes() };
  }

  async apply(steps: readonly Step[]): Promise<Outcome[]> {
    const errors = new Map<Step, string>();
    for (const step of steps) {
      const cause = step.action === 'link-set' ? this.writeSettings(step) : undefined;
      if (cause !== undefined) errors.set(step, cause);
    }
    const ipSteps = steps.filter((s): s is LinkStep => isLinkStep(s) && !errors.has(s) && ipArgs(s, this.flavor) !== undefined);
    const ran = this.flavor === 'iproute2' ? await this.runBatches(ipSteps) : await this.runEach(ipSteps);
    for (const [step, cause] of ran) errors.set(step, cause);
    const outcomes: Outcome[] = [];
    for (const step of steps) {
      const error = isLinkStep(step) ? errors.get(step) : undefined;
      outcomes.push(isLinkStep(step) ? (error === undefined ? { step } : { step, error }) : await runVmStep(step, this.uplink));
    }
    return outcomes;
  }

  /** A link-set step's file writes: its sysctls, and with busybox its group (sysfs), the rest being `ip`'s. */
  private writeSettings(step: StepOf<'link-set'>): string | undefined {
    const sysctls = writeLinkSysctls(step, this.roots.procSys);
    if (sysctls !== undefined || step.group === undefined || this.flavor === 'iproute2') return sysctls;
    return writeGroupFile(step.ifname, step.group, this.roots.sysfs);
  }

  /**
   * Runs of steps `ip -batch` can express go in one process each; a step
   * naming an interface the batch lexer cannot express ('#') runs alone.
   */
  private async runBatches(steps: readonly LinkStep[]): Promise<Map<Step, string>> {
    const failed = new Map<Step, string>();
    let pending: { step: LinkStep; line: string }[] = [];
    const flush = async (): Promise<void> => {
      for (const [step, cause] of await this.runBatch(pending)) failed.set(step, cause);
      pending = [];
    };
    for (const step of steps) {
      const line = batchLine(ipArgs(step, 'iproute2') ?? []);
      if (line !== undefined) {
        pending.push({ step, line });
        continue;
      }
      await flush();
      for (const [s, cause] of await this.runEach([step])) failed.set(s, cause);
    }
    await flush();
    return failed;
  }

  /**
   * One `ip -force -batch -`: per-line errors go to their steps; a process
   * that failed without them (killed, a bad exit, a lexer error) fails
   * every step it was given, since none of them can be trusted to be done.
   */
  private async runBatch(lines: readonly { step: LinkStep; line: string }[]): Promise<Map<Step, string>> {
    const failed = new Map<Step, string>();
    if (lines.length === 0) return failed;
    const out = await run(this.binary, ['-force', '-batch', '-'], lines.map((l) => l.line).join('\n') + '\n');
    const perLine = parseBatchErrors(out.stderr);
    for (const [n, text] of perLine) {
      const step = lines[n - 1]?.step;
      const cause = step && classifyIpError(step, text);
      if (step && cause !== undefined) failed.set(step, cause);
    }
    const whole = out.signal !== undefined || (perLine.size === 0 && out.code !== 0) ? exitCause(out) : undefined;
    if (whole !== undefined) for (const { step } of lines) if (!failed.has(step)) failed.set(step, whole);
    return failed;
  }

  close(): void {
    this.netlink?.close?.();
    this.uplink.close?.();
  }

  private async runEach(steps: readonly LinkStep[]): Promise<Map<Step, string>> {
    const failed = new Map<Step, string>();
    for (const step of steps) {
      const cause = stepCause(step, await run(this.binary, ipArgs(step, this.flavor) ?? []));
      if (cause !== undefined) failed.set(step, cause);
    }
    return failed;
  }
}
