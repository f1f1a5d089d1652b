import { spawn } from 'node:child_process';
import { EnvironmentError } from '../errors';

export interface RunResult {
  /** The exit status; 1 when a signal ended the program. */
  readonly code: number;
  /** The signal that ended the program, if one did. */
  readonly signal?: NodeJS.Signals;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program directly (never through a shell), feeding `input` on stdin. */
export function run(binary: string, args: readonly string[], input = ''): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'not found (install iproute2 or busybox, or pass --ip-binary)' : err.message;
      reject(new EnvironmentError(`cannot run "${binary}": ${why}`));
    });
    child.on('close', (code, signal) => resolve({ code: code ?? 1, ...(signal ? { signal } : {}), stdout, stderr }));
    child.stdin.on('error', () => undefined); // the child may exit before reading all of it
    child.stdin.end(input);
  });
}
