import yargs from 'yargs';
import { BACKEND_NAMES } from '../apply/backend-names';
import { DEFAULT_ARGS } from './args';
import { DNS_DEFAULTS } from '../dns/defaults';
import { SCHEME_NAMES } from '../convention/scheme';
import { UsageError } from '../errors';
import { runApply, runDerive, runFlush, runReport, runStatus, type CliResult } from './handlers';
import { REPORT_DESCRIBE, REPORT_EPILOG } from '../report/help';
import { EVENTS_NAMES, type EventsName } from '../watch/events';
import { runWatch } from '../watch/handler';
import { usageMessage } from './yargs-messages';
import { version } from '../../package.json';

// Declares the commands and flags; handlers.ts runs them, main.ts maps exit codes.

const EPILOG = `Configures Spectrum OS inter-guest network interfaces from their MAC addresses.
See guestnet(8) for the contract, files and examples.

Exit codes:
  0  success (also when there is nothing to do)
  1  some interface failed (the others are still configured), or the
     environment cannot do the job (no permission, no ip binary)
  2  bad usage or bad input (unknown option, malformed MAC, no such interface)`;

const D = DEFAULT_ARGS;
const COMMANDS = ['apply', 'status', 'derive', 'flush', 'watch', 'dns', 'report', 'completion'];

/** A number option's value: yargs has turned digits into a number; anything else is named as typed. */
const numeric = (name: string) => (v: unknown): number => {
  if (typeof v === 'number') return v;
  throw new UsageError(`--${name}: "${Array.isArray(v) ? v.join(' ') : String(v)}" is not a number`);
};
const number = (name: string, describe: string, dflt: number) =>
  ({ requiresArg: true, coerce: numeric(name), describe, default: dflt }) as const;

/** Runs a command's handler, or (while only checking the command line) nothing. */
type Dispatch = (run: () => Promise<CliResult>) => Promise<void>;

/** guestnet's global options and behaviour, shared by both parses of a command line. */
function globals(argv: string[], width: number) {
  return yargs(argv)
    .scriptName('guestnet')
    .usage('$0 <command> [options]')
    // One key per option: else an unknown --dry-run is reported as "dry-run, dryRun".
    .parserConfiguration({ 'camel-case-expansion': false })
    .option('scheme', { choices: SCHEME_NAMES, default: D.scheme, describe: 'MAC convention: oui (0A:B3:EC) or laa (02:00/02:01)' })
    .option('gateway', { type: 'string', default: D.gateway, describe: 'provider-side address' })
    .option('prefix', number('prefix', 'prefix length of client addresses (16-32)', D.prefix))
    .option('default-route', { type: 'boolean', default: D['default-route'], describe: 'install a default route on client links (--no-default-route to skip)' })
    .option('backend', { choices: BACKEND_NAMES, default: D.backend, describe: 'how to change kernel state: netlink (rtnetlink socket), ip (the ip program), or auto (netlink where it can be had)' })
    .option('ip-binary', { type: 'string', requiresArg: true, default: D['ip-binary'], describe: 'the ip program (iproute2 or busybox)' })
    .option('log-format', { choices: ['human', 'json'] as const, default: D['log-format'], describe: 'stderr log lines' })
    .option('quiet', { alias: 'q', type: 'boolean', default: D.quiet, describe: 'log errors only' })
    .option('verbose', { alias: 'v', type: 'boolean', default: D.verbose, describe: 'log debug detail' })
    .option('json', { type: 'boolean', default: D.json, describe: 'print results as JSON on stdout' })
    .option('masquerade', { type: 'boolean', default: D.masquerade, describe: 'on a provider, source-NAT traffic from 100.64.0.0/16 leaving it (--no-masquerade to skip)' })
    .option('allow-client-to-client', { type: 'boolean', default: D['allow-client-to-client'], describe: 'on a provider, let clients reach each other (not dropped; sources still checked)' })
    .option('client-flow-limit', { type: 'string', requiresArg: true, default: D['client-flow-limit'], describe: 'on a provider, new forwarded flows per client beyond N are dropped (N, auto: nf_conntrack_max/8 but at least 256, or off)' })
    // Not `array: true`, which would take the interface names after it: repeated, yargs gathers an array.
    .option('open-port', { type: 'string', requiresArg: true, coerce: (v: unknown) => [v].flat().map(String), default: D['open-port'], describe: 'on a provider, open PROTO/PORT (tcp/8080, udp/...) on the gateway address to clients; repeatable' })
    .epilog(EPILOG)
    .version(version)
    .strict()
    .wrap(width)
    .exitProcess(false)
    .fail((msg: string | null, err: Error | undefined) => {
      if (err && err.name !== 'YError') throw err; // a handler's own error: main.ts maps it
      throw new UsageError(usageMessage(msg ?? err?.message ?? 'bad usage', argv, COMMANDS));
    });
}

/**
 * The commands. `check` builds the variant used before --help or --version:
 * yargs answers those before it validates, so here they are plain options,
 * required positionals become optional, and handlers do nothing.
 */
function parser(argv: string[], dispatch: Dispatch, check: boolean, width: number) {
  const y = globals(argv, width);
  const demanded = (spec: string) => (check ? spec.replace(/<([^>]+)>/g, '[$1]') : spec);
  const checking = () => y.help(false).version(false).options({ help: { type: 'boolean' }, version: { type: 'boolean' } });
  return (check ? checking() : y)
    .command(
      'apply [iface..]',
      'configure all inter-guest interfaces, or the named ones',
      (c) =>
        c
          .positional('iface', { type: 'string', array: true, describe: 'interface names' })
          .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'print the plan as shell commands, change nothing' })
          .option('wait', number('wait', 'seconds to wait for interfaces to appear (0-3600)', 0)),
      (args) => dispatch(() => runApply(args)),
    )
    .command(
      'status [iface..]',
      'show every interface: role, expected and current state, drift',
      (c) => c.positional('iface', { type: 'string', array: true }),
      (args) => dispatch(() => runStatus(args)),
    )
    .command(
      demanded('derive <mac>'),
      'print the address and role a MAC address stands for',
      (c) => c.positional('mac', { type: 'string' }),
      (args) => dispatch(() => runDerive({ ...args, mac: String(args.mac) })),
    )
    .command(
      'flush [iface..]',
      'remove exactly what guestnet owns on the named (or all) inter-guest interfaces',
      (c) =>
        c
          .positional('iface', { type: 'string', array: true })
          .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'print the plan as shell commands, change nothing' }),
      (args) => dispatch(() => runFlush(args)),
    )
    .command(
      'watch',
      'apply everything, then keep inter-guest links configured as they come and go (SIGHUP re-applies, SIGTERM stops)',
      (c) =>
        c
          .option('events', { choices: EVENTS_NAMES, default: 'auto' as EventsName, describe: 'how to hear of link changes: netlink, ip-monitor (iproute2), poll (sysfs), or auto: the first that works' })
          .option('poll-interval', number('poll-interval', 'milliseconds between sysfs reads when polling (10-60000)', 250))
          .option('debounce', number('debounce', 'milliseconds to gather a burst of events into one pass (0-1000)', 0))
          .option('notify-fd', { requiresArg: true, coerce: numeric('notify-fd'), describe: 'write a newline to this fd once the first apply is done (s6 notification-fd)' }),
      (args) => dispatch(() => runWatch(args)),
    )
    .command(
      'dns',
      'forward clients\' DNS queries at the gateway address to the upstream resolvers (SIGTERM stops)',
      (c) =>
        c
          .option('listen', { type: 'string', requiresArg: true, describe: 'ADDR[:PORT] to answer on, UDP and TCP (default: the --gateway address, port 53)' })
          .option('upstream', { type: 'string', array: true, requiresArg: true, describe: 'ADDR[:PORT] to forward to, instead of the nameserver lines of --resolv-conf (repeat for several)' })
          .option('resolv-conf', { type: 'string', requiresArg: true, default: DNS_DEFAULTS['resolv-conf'], describe: 'the file whose nameserver lines are the upstreams, followed as it changes' })
          .option('user', { type: 'string', requiresArg: true, default: DNS_DEFAULTS.user, describe: 'the user to become once the sockets are bound (when started as root)' })
          .option('rate-limit', number('rate-limit', 'queries a second one client may send (0: no limit)', DNS_DEFAULTS['rate-limit']))
          .option('state-dir', { type: 'string', requiresArg: true, default: DNS_DEFAULTS['state-dir'], describe: 'where the resolver keeps state.json (guestnet report reads it)' })
          .option('notify-fd', { requiresArg: true, coerce: numeric('notify-fd'), describe: 'write a newline to this fd once the sockets are bound (s6 notification-fd)' }),
      (args) => dispatch(async () => (await import('../dns/command')).runDns(args)),
    )
    .command(
      'report',
      REPORT_DESCRIBE,
      // --machine-only: the machine probe's child process (report/machine-child.ts), not for people.
      (c) => c.option('machine-only', { type: 'boolean', hidden: true }).epilog(REPORT_EPILOG),
      (args) => dispatch(() => runReport(args)),
    )
    .command(
      'completion',
      'print a bash completion script (zsh when $SHELL is zsh): guestnet completion >> ~/.bashrc',
      (c) => c,
      () => dispatch(async () => (y.showCompletionScript(), { ok: true })),
    );
}

/** Parses argv with yargs, runs one command, prints its result. */
export async function runCli(argv: string[]): Promise<CliResult> {
  const wantsHelp = argv.includes('--help');
  // Only help needs the terminal's width: asking for it builds process.stdout (~25 ms under bun).
  const width = wantsHelp ? Math.min(100, process.stdout.columns || Number(process.env.COLUMNS) || 80) : 80;
  // A bad option or command exits 2 also next to --help: `guestnet bogus --help` is a failed probe.
  if (wantsHelp || argv.includes('--version')) await parser(argv, async () => undefined, true, width).parseAsync();
  let result: CliResult | undefined;
  const parsed = await parser(argv, async (run) => void (result = await run()), false, width).parseAsync();
  if (result) return result;
  // yargs itself answered --help, --version, or a completion request from the shell.
  // (`guestnet help` is yargs' spelling of `guestnet --help`: it leaves no words behind.)
  const answered =
    parsed.help === true || parsed.version === true || 'get-yargs-completions' in parsed || (parsed._.length === 0 && argv.includes('help'));
  if (!answered) throw new UsageError(`name a command (${COMMANDS.join(', ')})`);
  return { ok: true };
}
