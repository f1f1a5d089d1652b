import yargs from 'yargs';
import { BACKEND_NAMES } from './apply/select-backend';
import { DEFAULT_ARGS } from './args';
import { SCHEME_NAMES } from './convention/scheme';
import { UsageError } from './errors';
import { runApply, runDerive, runFlush, runReport, runStatus, type CliResult } from './handlers';
import { REPORT_DESCRIBE, REPORT_EPILOG } from './report/help';
import { EVENTS_NAMES, type EventsName } from './watch/events';
import { runWatch } from './watch/handler';
import { version } from '../package.json';

// Declares the commands and flags; handlers.ts runs them, main.ts maps exit codes.

const EPILOG = `Configures Spectrum OS inter-guest network interfaces from their MAC addresses.

Exit codes:
  0  success (also when there is nothing to do)
  1  some interface failed (the others are still configured), or the
     environment cannot do the job (no permission, no ip binary)
  2  bad usage or bad input (unknown option, malformed MAC, no such interface)`;

const D = DEFAULT_ARGS;
const COMMANDS = ['apply', 'status', 'derive', 'flush', 'watch', 'report'];

function parser(argv: string[]) {
  return yargs(argv)
    .scriptName('guestnet')
    .usage('$0 <command> [options]')
    .option('scheme', { choices: SCHEME_NAMES, default: D.scheme, describe: 'MAC convention: oui (0A:B3:EC) or laa (02:00/02:01)' })
    .option('gateway', { type: 'string', default: D.gateway, describe: 'provider-side address' })
    .option('prefix', { type: 'number', default: D.prefix, describe: 'prefix length of client addresses (16-32)' })
    .option('default-route', { type: 'boolean', default: D['default-route'], describe: 'install a default route on client links (--no-default-route to skip)' })
    .option('backend', { choices: BACKEND_NAMES, default: D.backend, describe: 'how to talk to the kernel' })
    .option('ip-binary', { type: 'string', default: D['ip-binary'], describe: 'the ip program (iproute2 or busybox)' })
    .option('log-format', { choices: ['human', 'json'] as const, default: D['log-format'], describe: 'stderr log lines' })
    .option('quiet', { alias: 'q', type: 'boolean', default: D.quiet, describe: 'log errors only' })
    .option('verbose', { alias: 'v', type: 'boolean', default: D.verbose, describe: 'log debug detail' })
    .option('json', { type: 'boolean', default: D.json, describe: 'print results as JSON on stdout' })
    .option('masquerade', { type: 'boolean', default: D.masquerade, describe: 'on a provider, source-NAT traffic from 100.64.0.0/16 leaving it (--no-masquerade to skip)' })
    .option('allow-client-to-client', { type: 'boolean', default: D['allow-client-to-client'], describe: 'on a provider, let clients reach each other (not dropped)' })
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

/** Parses argv with yargs, runs one command, prints its result. */
export async function runCli(argv: string[]): Promise<CliResult> {
  await checkCommandBeforeHelp(argv);
  let result: CliResult = { ok: true };
  await parser(argv)
    .command(
      'apply [iface..]',
      'configure all inter-guest interfaces, or the named ones',
      (y) =>
        y
          .positional('iface', { type: 'string', array: true, describe: 'interface names' })
          .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'print the plan, change nothing' })
          .option('wait', { type: 'number', default: 0, describe: 'seconds to wait for interfaces to appear' }),
      async (args) => {
        result = await runApply(args);
      },
    )
    .command(
      'status [iface..]',
      'show every interface: role, expected and current state, drift',
      (y) => y.positional('iface', { type: 'string', array: true }),
      async (args) => {
        result = await runStatus(args);
      },
    )
    .command(
      'derive <mac>',
      'print the address and role a MAC address stands for',
      (y) => y.positional('mac', { type: 'string', demandOption: true }),
      async (args) => {
        result = await runDerive(args);
      },
    )
    .command(
      'flush [iface..]',
      'remove exactly what guestnet owns on the named (or all) inter-guest interfaces',
      (y) => y.positional('iface', { type: 'string', array: true }),
      async (args) => {
        result = await runFlush(args);
      },
    )
    .command(
      'watch',
      'apply everything, then keep inter-guest links configured as they come and go (SIGHUP re-applies, SIGTERM stops)',
      (y) =>
        y
          .option('events', { choices: EVENTS_NAMES, default: 'auto' as EventsName, describe: 'how to hear of link changes: netlink, ip-monitor (iproute2), poll (sysfs), or auto: the first that works' })
          .option('poll-interval', { type: 'number', default: 250, describe: 'milliseconds between sysfs reads when polling (10-60000)' })
          .option('debounce', { type: 'number', default: 1, describe: 'milliseconds to gather a burst of events into one pass (0-1000)' })
          .option('notify-fd', { type: 'number', describe: 'write a newline to this fd once the first apply is done (s6 notification-fd)' }),
      async (args) => {
        result = await runWatch(args);
      },
    )
    .command(
      'report',
      REPORT_DESCRIBE,
      // --machine-only: the machine probe's child process (report/machine-child.ts), not for people.
      (y) => y.option('machine-only', { type: 'boolean', hidden: true }).epilog(REPORT_EPILOG),
      async (args) => {
        result = await runReport(args);
      },
    )
    .parseAsync();
  return result;
}

/**
 * yargs answers `--help` before it validates, so `guestnet bogus --help`
 * would print the general help and exit 0; a script probing for a command
 * (`guestnet watch --help`) must get exit 2 instead.
 */
async function checkCommandBeforeHelp(argv: string[]): Promise<void> {
  if (!argv.includes('--help')) return;
  // The same global options, no commands: yargs itself finds the first word.
  const { _: words } = await parser(argv).strict(false).help(false).demandCommand(0).parseAsync();
  const first = words[0];
  if (first !== undefined && !COMMANDS.includes(String(first))) throw new UsageError(`Unknown command: ${first}`);
}
