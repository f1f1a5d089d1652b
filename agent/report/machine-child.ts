import { spawn } from 'node:child_process';
import { UNKNOWN, type MachineFacts } from './machine';

// systeminformation runs some tools with execSync, which no Promise.race can
// interrupt: a tool that hangs would hang the report. So the machine probe
// runs in a child (guestnet itself, `report --machine-only`) in a process
// group of its own, killed with every tool it started when the deadline passes.

export const UNKNOWN_MACHINE: MachineFacts = {
  virtual: UNKNOWN,
  hypervisor: UNKNOWN,
  os: UNKNOWN,
  kernel: UNKNOWN,
  arch: UNKNOWN,
  cpu: { model: UNKNOWN, count: UNKNOWN },
  memory: { totalBytes: UNKNOWN, availableBytes: UNKNOWN },
};

/** How to start this very program again: the compiled executable, or the runtime with its script. */
function selfCommand(args: readonly string[]): [string, string[]] {
  const script = process.argv[1];
  const compiled = script === undefined || script.startsWith('/$bunfs/');
  return [process.execPath, compiled ? [...args] : [...process.execArgv, script, ...args]];
}

/**
 * The child's answer, or every field "unknown" if it failed, printed nonsense
 * or missed the deadline. The answer is one JSON line; once it is in, the
 * group is killed rather than waited for (tools the child started may linger).
 */
export function probeMachineInChild(deadlineMs: number): Promise<MachineFacts> {
  const [cmd, args] = selfCommand(['report', '--machine-only']);
  return new Promise((resolve) => {
    // Pipes, not 'ignore': that opens /dev/null, which a bare root may lack.
    const child = spawn(cmd, args, { detached: true, stdio: 'pipe' });
    child.stdin.end();
    child.stderr.resume(); // the tools' complaints are not for the console
    let out = '';
    let done = false;
    const finish = (facts: MachineFacts): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      killGroup(child.pid);
      resolve(facts);
    };
    const timer = setTimeout(() => finish(UNKNOWN_MACHINE), deadlineMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.endsWith('\n')) finish(parseFacts(out));
    });
    child.on('error', () => undefined); // 'close' follows
    child.on('close', () => finish(parseFacts(out)));
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

function parseFacts(text: string): MachineFacts {
  try {
    return JSON.parse(text) as MachineFacts;
  } catch {
    return UNKNOWN_MACHINE;
  }
}
