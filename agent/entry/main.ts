#!/usr/bin/env node
import { UsageError } from '../errors';
import { fastCommand } from './fast-path';
import type { CliResult } from './handlers';
import { createLogger, type LogFormat } from '../log';
import { writeErr, writeOut } from '../output';
import { version } from '../../package.json';

// The only place that turns results and errors into exit codes (see --help).

async function run(argv: string[]): Promise<CliResult> {
  const fast = fastCommand(argv);
  if (fast?.command === 'version') return (writeOut(`${version}\n`), { ok: true });
  if (fast) {
    // Loaded here, not above: --version needs none of it.
    const { runApply, runDerive, runStatus } = await import('./handlers');
    switch (fast.command) {
      case 'apply': return runApply(fast.args);
      case 'status': return runStatus(fast.args);
      case 'derive': return runDerive(fast.args);
    }
  }
  const { runCli } = await import('./cli');
  return runCli(argv);
}

/**
 * `--log-format` as typed, read without yargs: an error yargs raises (or
 * one raised before it ran) must obey the option too.
 */
export function logFormatOf(argv: readonly string[]): LogFormat {
  let format: LogFormat = 'human';
  argv.forEach((arg, i) => {
    const value = arg === '--log-format' ? argv[i + 1] : arg.startsWith('--log-format=') ? arg.slice(13) : undefined;
    if (value === 'json' || value === 'human') format = value;
  });
  return format;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  try {
    const { ok } = await run(argv);
    return ok ? 0 : 1;
  } catch (err) {
    // EnvironmentError, a failed interface or anything unforeseen: 1.
    const code = err instanceof UsageError ? 2 : 1;
    const log = createLogger({ format: logFormatOf(argv), verbosity: 0, write: writeErr });
    log.fatal(err, { exit: code });
    return code;
  }
}

void main().then((code) => {
  process.exitCode = code;
});
