import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

// The timer that runs inside the namespace under test (started by procs.ts as
// `ip netns exec NS bun run bench/runner.ts`), so the programs it times see the
// namespace's own /sys without paying for `ip netns exec` themselves.
//
// Reads one JSON request a line on stdin, answers one JSON line on stdout:
//   { id, cmds: [argv, ...], writes?: [[path, text], ...], env?, capture? }
//   -> { id, ms, cpuMs, codes, stderr }
// `writes` happen first and untimed; then the commands run one after the other,
// each waited for; `ms` is the wall time from the first exec to the last exit and
// `cpuMs` the user+system time of the commands and the children they waited for.

interface Request {
  readonly id: number;
  readonly cmds: readonly string[][];
  readonly writes?: readonly [string, string][];
  readonly env?: Readonly<Record<string, string>>;
  /** Keep stderr (for checks); timed runs send output to /dev/null. */
  readonly capture?: boolean;
}

function handle(req: Request): object {
  for (const [path, text] of req.writes ?? []) writeFileSync(path, text);
  const env = req.env ? { ...process.env, ...req.env } : undefined;
  const out = req.capture ? 'pipe' : 'ignore';
  const codes: number[] = [];
  let stderr = '';
  let cpuUs = 0;
  const t0 = performance.now();
  for (const cmd of req.cmds) {
    const r = Bun.spawnSync(cmd, { stdin: 'ignore', stdout: out, stderr: out, env });
    codes.push(r.exitCode ?? -1);
    cpuUs += Number(r.resourceUsage?.cpuTime.total ?? NaN);
    if (req.capture) stderr += r.stderr?.toString() ?? '';
  }
  const ms = performance.now() - t0;
  return { id: req.id, ms, cpuMs: cpuUs / 1000, codes, stderr };
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const req = JSON.parse(line) as Request;
  let reply: object;
  try {
    reply = handle(req);
  } catch (err) {
    reply = { id: req.id, ms: NaN, cpuMs: NaN, codes: [-1], stderr: String(err) };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
});
