import { BACKEND_NAMES, type BackendName } from '../apply/backend-names';
import { DEFAULT_ARGS, type ApplyArgs, type GlobalArgs } from './args';

// The command lines that skip yargs (about 15-25 ms of a compiled start-up):
// the boot and hotplug invocations, and the quick looks a person or a
// script takes. Only plain, valid shapes qualify; anything else (options
// beyond these, --help, a bad value) goes through the full CLI, which owns
// every error message.

export type FastCommand =
  | { readonly command: 'apply'; readonly args: ApplyArgs }
  | { readonly command: 'status'; readonly args: GlobalArgs & { iface: string[] } }
  | { readonly command: 'derive'; readonly args: GlobalArgs & { mac: string } }
  | { readonly command: 'version' };

type Parse = (v: string) => Partial<ApplyArgs> | undefined;

const BACKEND: Parse = (v) => (BACKEND_NAMES.includes(v as BackendName) ? { backend: v as BackendName } : undefined);
const WAIT: Parse = (v) => (/^\d+(\.\d+)?$/.test(v) ? { wait: Number(v) } : undefined);

/** The options each command's fast path understands, each with a check of its value. */
const VALUE_OPTIONS: Record<'apply' | 'status', ReadonlyMap<string, Parse>> = {
  apply: new Map([['--backend', BACKEND], ['--wait', WAIT]]),
  status: new Map([['--backend', BACKEND]]),
};

/** Interface names and value options, or undefined at the first word the fast path does not know. */
function ifacesAndOptions(argv: readonly string[], options: ReadonlyMap<string, Parse>): ApplyArgs | undefined {
  const args: ApplyArgs = { ...DEFAULT_ARGS, iface: [], 'dry-run': false, wait: 0 };
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    const option = options.get(arg);
    if (option) {
      const parsed = option(argv[++i] ?? '');
      if (!parsed) return undefined;
      Object.assign(args, parsed);
    } else if (/^[A-Za-z0-9_.-]+$/.test(arg) && !arg.startsWith('-')) {
      args.iface?.push(arg);
    } else {
      return undefined;
    }
  }
  return args;
}

/**
 * Recognizes `apply [IFACE...]` (with `--wait N`, `--backend NAME`),
 * `status [IFACE...]` (with `--backend NAME`), `derive MAC` and
 * `--version`; anything else returns undefined.
 */
export function fastCommand(argv: readonly string[]): FastCommand | undefined {
  const [command] = argv;
  if (command === 'apply') {
    const args = ifacesAndOptions(argv, VALUE_OPTIONS.apply);
    return args && { command, args };
  }
  if (command === 'status') {
    const args = ifacesAndOptions(argv, VALUE_OPTIONS.status);
    return args && { command, args: { ...DEFAULT_ARGS, backend: args.backend, iface: args.iface ?? [] } };
  }
  // Colon-separated hex only: yargs would read nothing else differently, and no number.
  if (command === 'derive' && argv.length === 2 && /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(argv[1])) {
    return { command, args: { ...DEFAULT_ARGS, mac: argv[1] } };
  }
  if (argv.length === 1 && command === '--version') return { command: 'version' };
  return undefined;
}
