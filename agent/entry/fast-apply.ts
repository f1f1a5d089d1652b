import { BACKEND_NAMES, type BackendName } from '../apply/select-backend';
import { DEFAULT_ARGS, type ApplyArgs } from './args';

// The options the fast path understands, each with a check of its value.
const VALUE_OPTIONS: Record<string, (v: string) => Partial<ApplyArgs> | undefined> = {
  '--wait': (v) => (/^\d+(\.\d+)?$/.test(v) ? { wait: Number(v) } : undefined),
  '--backend': (v) => (BACKEND_NAMES.includes(v as BackendName) ? { backend: v as BackendName } : undefined),
};

/**
 * Recognizes the boot and hotplug invocations, `apply [IFACE...]` with at
 * most `--wait N` and `--backend NAME`, so they skip loading yargs (about
 * 15 ms of a compiled start-up). Anything else returns undefined and goes
 * through the full CLI, which also owns every error message.
 */
export function fastApplyArgs(argv: readonly string[]): ApplyArgs | undefined {
  if (argv[0] !== 'apply') return undefined;
  const args: ApplyArgs = { ...DEFAULT_ARGS, iface: [], 'dry-run': false, wait: 0 };
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    const option = VALUE_OPTIONS[arg];
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
