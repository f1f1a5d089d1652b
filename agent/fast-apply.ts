import { DEFAULT_ARGS, type ApplyArgs } from './args';

/**
 * Recognizes the boot and hotplug invocations, `apply [IFACE...] [--wait N]`
 * with default options, so they skip loading yargs (about 30 ms of a
 * compiled start-up). Anything else returns undefined and goes through the
 * full CLI, which also owns every error message.
 */
export function fastApplyArgs(argv: readonly string[]): ApplyArgs | undefined {
  if (argv[0] !== 'apply') return undefined;
  const iface: string[] = [];
  let wait = 0;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--wait' && /^\d+(\.\d+)?$/.test(argv[i + 1] ?? '')) wait = Number(argv[++i]);
    else if (/^[A-Za-z0-9_.-]+$/.test(arg) && !arg.startsWith('-')) iface.push(arg);
    else return undefined;
  }
  return { ...DEFAULT_ARGS, iface, 'dry-run': false, wait };
}
