import { createBackend } from './apply/select-backend';
import type { ApplyArgs, GlobalArgs } from './args';
import { context } from './args';
import { apply } from './commands/apply';
import { derive } from './commands/derive';
import { flush } from './commands/flush';
import { status } from './commands/status';
import { checkIfname } from './discover/select';
import { UsageError } from './errors';
import { formatDerive, formatPlan, formatStatus } from './format';
import { writeOut } from './output';

// One function per command: typed arguments in, result printed, ok out.

export interface CliResult {
  /** False when some interface failed; the others were still configured. */
  readonly ok: boolean;
}

const OK: CliResult = { ok: true };

const print = writeOut;
const json = (value: unknown): string => JSON.stringify(value, null, 2) + '\n';
const ifaceList = (v: readonly string[] | undefined): string[] => (v ?? []).map(checkIfname);
const backendFor = (args: GlobalArgs) => createBackend(args.backend, args['ip-binary']);

export async function runApply(args: ApplyArgs): Promise<CliResult> {
  if (!(args.wait >= 0 && args.wait <= 3600)) throw new UsageError(`--wait: "${args.wait}" is not 0-3600 seconds`);
  const ctx = await context(args);
  const opts = { ifaces: ifaceList(args.iface), dryRun: args['dry-run'], wait: args.wait };
  const r = await apply(opts, await backendFor(args), ctx);
  if (args.json) print(json(r));
  else if (r.dryRun) print(formatPlan(r));
  return { ok: r.uplinkOk && r.interfaces.every((i) => i.ok) };
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
  return { ok: r.uplinkOk && r.interfaces.every((i) => i.ok) };
}
