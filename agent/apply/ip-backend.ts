import { realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { KernelState, Link, LinkState } from '../convention/types';
import type { UplinkTable } from '../convention/uplink';
import { isLinkStep, type LinkStep, type Outcome, type Step } from '../plan/steps';
import { parseIpAddrOneline } from '../state/ip-addr';
import { readForwarding, readProcRoutes } from '../state/procfs';
import type { Backend } from './backend';
import { causeOf, classifyIpError, ipArgs, type IpFlavor } from './ip-commands';
import { run } from './run';
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

/**
 * Applies plans with the `ip` command: iproute2 runs the whole plan in one
 * `ip -force -batch -` process; busybox (no -batch) runs one process a step.
 * The uplink table goes through the driver it is given (`nft`, or netlink).
 */
export class IpBackend implements Backend {
  readonly name: string;

  constructor(
    private readonly binary: string,
    private readonly flavor: IpFlavor,
    private readonly uplink: UplinkDriver,
  ) {
    this.name = `ip (${flavor})`;
  }

  readUplink(): Promise<UplinkTable | undefined> {
    return this.uplink.read();
  }

  async readState(links: readonly Link[]): Promise<KernelState> {
    const byIf = new Map<string, LinkState>();
    if (links.length === 0) return { links: byIf, forwarding: readForwarding() };
    const out = await run(this.binary, ['-o', '-4', 'addr', 'show']);
    if (out.code !== 0) throw new Error(`${this.binary} addr show: ${causeOf(out.stderr)}`);
    const addrs = parseIpAddrOneline(out.stdout);
    const routes = readProcRoutes();
    for (const { name } of links) byIf.set(name, { addrs: addrs.get(name) ?? [], routes: routes.get(name) ?? [] });
    return { links: byIf, forwarding: readForwarding() };
  }

  async apply(steps: readonly Step[]): Promise<Outcome[]> {
    const ipSteps = steps.filter(isLinkStep);
    const errors = this.flavor === 'iproute2' ? await this.runBatch(ipSteps) : await this.runEach(ipSteps);
    const outcomes: Outcome[] = [];
    for (const step of steps) {
      const error = isLinkStep(step) ? errors.get(step) : undefined;
      outcomes.push(isLinkStep(step) ? (error === undefined ? { step } : { step, error }) : await runVmStep(step, this.uplink));
    }
    return outcomes;
  }

  private async runBatch(steps: readonly LinkStep[]): Promise<Map<Step, string>> {
    const failed = new Map<Step, string>();
    if (steps.length === 0) return failed;
    const script = steps.map((s) => (ipArgs(s, 'iproute2') ?? []).join(' ')).join('\n') + '\n';
    const out = await run(this.binary, ['-force', '-batch', '-'], script);
    for (const [line, text] of parseBatchErrors(out.stderr)) {
      const step = steps[line - 1];
      const cause = step && classifyIpError(step, text);
      if (step && cause !== undefined) failed.set(step, cause);
    }
    return failed;
  }

  private async runEach(steps: readonly LinkStep[]): Promise<Map<Step, string>> {
    const failed = new Map<Step, string>();
    for (const step of steps) {
      const out = await run(this.binary, ipArgs(step, 'busybox') ?? []);
      const cause = out.code === 0 ? undefined : classifyIpError(step, out.stderr);
      if (cause !== undefined) failed.set(step, cause);
    }
    return failed;
  }
}
