import yargs, { type Argv } from 'yargs';
import { BACKEND_NAMES, createBackend, type BackendName } from './apply/select-backend';
import { apply } from './commands/apply';
import type { Context } from './commands/common';
import { derive } from './commands/derive';
import { flush } from './commands/flush';
import { status } from './commands/status';
import { checkOptions } from './convention/derive';
import { SCHEME_NAMES } from './convention/scheme';
import { DEFAULT_OPTIONS, type DeriveOptions, type SchemeName } from './convention/types';
import { checkIfname } from './discover/select';
import { SYSFS_NET } from './discover/sysfs';
import { UsageError } from './errors';
import { formatDerive, formatPlan, formatStatus } from './format';
import { createLogger, type LogFormat } from './log';
import { version } from '../package.json';

// Declares the commands and flags, and prints results. Exit codes live in main.ts.

export interface CliResult {
  /** False when some interface failed; the others were still configured. */
  readonly ok: boolean;
}

interface GlobalArgs {
  scheme: SchemeName;
  gateway: string;
  prefix: number;
  'default-route': boolean;
  backend: BackendName;
  'ip-binary': string;
  'log-format': LogFormat;
  quiet: boolean;
  verbose: boolean;
  json: boolean;
}

const EPILOG = `Configures Spectrum OS inter-guest network interfaces from their MAC addresses.

Exit codes:
  0  success (also when there is nothing to do)
  1  some interface failed (the others are still configured), or the
     environment cannot do the job (no permission, no ip binary)
  2  bad usage or bad input (unknown option, malformed MAC, no such interface)`;

function context(args: GlobalArgs): Context {
  const options: DeriveOptions = checkOptions({
    scheme: args.scheme,
    gateway: args.gateway,
    clientPrefix: args.prefix,
    defaultRoute: args['default-route'],
  });
  const verbosity = args.quiet ? -1 : args.verbose ? 1 : 0;
  return { derive: options, sysfs: SYSFS_NET, log: createLogger({ format: args['log-format'], verbosity }) };
}

const ifaceList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String).map(checkIfname) : []);

function globalOptions(argv: string[]): Argv<GlobalArgs> {
  return yargs(argv)
    .scriptName('guestnet')
    .usage('$0 <command> [options]')
    .option('scheme', { choices: SCHEME_NAMES, default: DEFAULT_OPTIONS.scheme, describe: 'MAC convention: oui (0A:B3:EC) or laa (02:00/02:01)' })
    .option('gateway', { type: 'string', default: DEFAULT_OPTIONS.gateway, describe: 'provider-side address' })
    .option('prefix', { type: 'number', default: DEFAULT_OPTIONS.clientPrefix, describe: 'prefix length of client addresses (16-32)' })
    .option('default-route', { type: 'boolean', default: true, describe: 'install a default route on client links (--no-default-route to skip)' })
    .option('backend', { choices: BACKEND_NAMES, default: 'auto' as BackendName, describe: 'how to talk to the kernel' })
    .option('ip-binary', { type: 'string', default: 'ip', describe: 'the ip program (iproute2 or busybox)' })
    .option('log-format', { choices: ['human', 'json'] as const, default: 'human' as LogFormat, describe: 'stderr log lines' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'log errors only' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'log debug detail' })
    .option('json', { type: 'boolean', default: false, describe: 'print results as JSON on stdout' })
    .epilog(EPILOG)
    .version(version)
    .strict()
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .wrap(100)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
}

function print(text: string): void {
  process.stdout.write(text);
}

const json = (value: unknown): string => JSON.stringify(value, null, 2) + '\n';

/** Parses argv, runs one command, prints its result. */
export async function runCli(argv: string[]): Promise<CliResult> {
  let result: CliResult = { ok: true };
  const backendFor = (args: GlobalArgs) => createBackend(args.backend, args['ip-binary']);
  await globalOptions(argv)
    .command(
      'apply [iface..]',
      'configure all inter-guest interfaces, or the named ones',
      (y) =>
        y
          .positional('iface', { type: 'string', array: true, describe: 'interface names' })
          .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'print the plan, change nothing' })
          .option('wait', { type: 'number', default: 0, describe: 'seconds to wait for interfaces to appear' }),
      async (args) => {
        if (!(args.wait >= 0 && args.wait <= 3600)) throw new UsageError(`--wait: ${args.wait} is not 0-3600 seconds`);
        const ctx = context(args);
        const opts = { ifaces: ifaceList(args.iface), dryRun: args['dry-run'], wait: args.wait };
        const r = await apply(opts, await backendFor(args), ctx);
        if (args.json) print(json(r));
        else if (r.dryRun) print(formatPlan(r));
        result = { ok: r.interfaces.every((i) => i.ok) };
      },
    )
    .command(
      'status [iface..]',
      'show every interface: role, expected and current state, drift',
      (y) => y.positional('iface', { type: 'string', array: true }),
      async (args) => {
        const list = await status(ifaceList(args.iface), await backendFor(args), context(args));
        print(args.json ? json(list) : formatStatus(list));
      },
    )
    .command(
      'derive <mac>',
      'print the address and role a MAC address stands for',
      (y) => y.positional('mac', { type: 'string', demandOption: true }),
      (args) => {
        const r = derive(args.mac, context(args).derive);
        print(args.json ? json(r) : formatDerive(r));
      },
    )
    .command(
      'flush [iface..]',
      "remove exactly what guestnet owns on the named (or all) inter-guest interfaces",
      (y) => y.positional('iface', { type: 'string', array: true }),
      async (args) => {
        const r = await flush(ifaceList(args.iface), await backendFor(args), context(args));
        if (args.json) print(json(r));
        result = { ok: r.interfaces.every((i) => i.ok) };
      },
    )
    .parseAsync();
  return result;
}
