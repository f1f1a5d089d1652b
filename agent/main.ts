#!/usr/bin/env node
import { UsageError } from './errors';
import { fastApplyArgs } from './fast-apply';
import { runApply, type CliResult } from './handlers';
import { writeErr } from './output';

// The only place that turns results and errors into exit codes (see --help).

async function run(argv: string[]): Promise<CliResult> {
  const fast = fastApplyArgs(argv);
  if (fast) return runApply(fast);
  const { runCli } = await import('./cli');
  return runCli(argv);
}

async function main(): Promise<number> {
  try {
    const { ok } = await run(process.argv.slice(2));
    return ok ? 0 : 1;
  } catch (err) {
    writeErr(`guestnet: error: ${err instanceof Error ? err.message : String(err)}\n`);
    // EnvironmentError, a failed interface or anything unforeseen: 1.
    return err instanceof UsageError ? 2 : 1;
  }
}

void main().then((code) => {
  process.exitCode = code;
});
