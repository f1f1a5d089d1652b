// Run by test/ns/netlink-backend.test.ts under bun (bun:ffi is bun-only),
// inside a test namespace: applies the steps given as JSON in argv[2], then
// prints {outcomes, state} as JSON, state being readState of argv[3..].
import { listLinks } from '../../agent/discover/sysfs';
import { createNetlinkBackend } from '../../agent/netlink/backend';
import type { Step } from '../../agent/plan/steps';

async function main(): Promise<void> {
  const steps = JSON.parse(process.argv[2] ?? '[]') as Step[];
  const names = process.argv.slice(3);
  const backend = await createNetlinkBackend();
  try {
    const outcomes = await backend.apply(steps);
    const links = listLinks().filter((l) => names.includes(l.name));
    const state = await backend.readState(links);
    process.stdout.write(JSON.stringify({ outcomes, state: { links: Object.fromEntries(state.links), forwarding: state.forwarding } }));
  } finally {
    backend.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
