import type { InterfaceResult } from '../commands/common';
import type { ApplyArgs, GlobalArgs } from './args';
import { SYSFS_NET } from '../discover/sysfs';
import { context } from './args';
import { apply } from '../commands/apply';
import { derive } from '../commands/derive';
import { flush } from '../commands/flush';
import { status } from '../commands/status';
import { checkIfname } from '../discover/select';
import { UsageError } from '../errors';
import { formatDerive, formatPlan, formatStatus } from './format';
import { readText } from '../io/files';
import { writeOut } from '../output';

// One function per command: typed arguments in, result printed, ok out.

export interface CliResult {
  /** False when some interface failed; the others were still configured. */
  readonly ok: boolean;
}

const OK: CliResult = { ok: true };

const print = writeOut;
const json = (value: unknown): string => JSON.stringify(value, null, 2) + '\n';
// Plain loops here and on the rest of the path of `apply` without links:
// under bun the first call of each array builtin taking a callback (map,
// filter, some, every) compiles it, ~0.1 M instructions apiece.
function ifaceList(names: readonly string[] | undefined): string[] {
  const checked: string[] = [];
  for (const name of names ?? []) checked.push(checkIfname(name));
  return checked;
}

function allOk(interfaces: readonly InterfaceResult[]): boolean {
  for (const i of interfaces) if (!i.ok) return false;
  return true;
}

// Loaded here, not above: derive needs no backend, and `--version` and derive
// start faster without netlink's and nf_tables' code.
const backendFor = async (args: GlobalArgs) => (await import('../apply/select-backend')).createBackend(args.backend, args['ip-binary'], SYSFS_NET);

export async function runApply(args: ApplyArgs): Promise<CliResult> {
  if (!(args.wait >= 0 && args.wait <= 3600)) throw new UsageError(`--wait: "${args.wait}" is not a number of seconds from 0 to 3600`);
  const ctx = await context(args);
  const opts = { ifaces: ifaceList(args.iface), dryRun: args['dry-run'], wait: args.wait };
  const r = await apply(opts, await backendFor(args), ctx);
  if (args.json) print(json(r));
  else if (r.dryRun) print(formatPlan(r));
  return { ok: r.uplinkOk && allOk(r.interfaces) };
}

export async function runStatus(args: GlobalArgs & { iface?: string[] }): Promise<CliResult> {
  const list = await status(ifaceList(args.iface), await backendFor(args), await context(args));
  print(args.json ? json(list) : formatStatus(list));
  return OK;
}

export async function runDerive(args: GlobalArgs & { mac: string }): Promise<CliResult> {
  const r = derive(args.mac, (await context(args)).derive);
  print(args.json ? json(r) : formatDerive(r));
  return OK;
}

export async function runFlush(args: GlobalArgs & { iface?: string[]; 'dry-run': boolean }): Promise<CliResult> {
  const r = await flush(ifaceList(args.iface), args['dry-run'], await backendFor(args), await context(args));
  if (args.json) print(json(r));
  else if (r.dryRun) print(formatPlan(r));
  return { ok: r.uplinkOk && allOk(r.interfaces) };
}

function readFileOr(path: string, fallback: string): string {
  try {
    return readText(path);
  } catch {
    return fallback; // no /proc: the fields it would have given read "unknown"
  }
}

/**
 * One systeminformation probe's bound inside the child, and the child's as a
 * whole. Generous: under QEMU's TCG the child alone takes ~4 s to answer.
 */
const PROBE_TIMEOUT_MS = 8000;
const MACHINE_DEADLINE_MS = 10000;

export async function runReport(args: GlobalArgs & { 'machine-only'?: boolean }): Promise<CliResult> {
  // Loaded only here (systeminformation above all): the boot and hotplug paths never pay for them.
  if (args['machine-only']) {
    const [{ default: si }, { probeMachine }] = await Promise.all([import('systeminformation'), import('../report/machine')]);
    print(JSON.stringify(await probeMachine(si, PROBE_TIMEOUT_MS, readFileOr('/proc/cpuinfo', ''))) + '\n');
    return OK;
  }
  const [{ report, reportOk }, { probeMachineInChild }, { formatReport }] = await Promise.all([
    import('../commands/report'),
    import('../report/machine-child'),
    import('../report/format'),
  ]);
  const r = await report(await backendFor(args), await context(args), { machine: () => probeMachineInChild(MACHINE_DEADLINE_MS) });
  print(args.json ? json(r) : formatReport(r));
  return { ok: reportOk(r) };
}
