#!/usr/bin/env node
import { runCli } from './cli';
import { UsageError } from './errors';

// The only place that turns results and errors into exit codes (see --help).

async function main(): Promise<number> {
  try {
    const { ok } = await runCli(process.argv.slice(2));
    return ok ? 0 : 1;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`guestnet: error: ${msg}\n`);
    // EnvironmentError, a failed interface or anything unforeseen: 1.
    return err instanceof UsageError ? 2 : 1;
  }
}

void main().then((code) => {
  process.exitCode = code;
});
