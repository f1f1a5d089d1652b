// Run by test/ns/netlink-backend.test.ts under bun (bun:ffi is bun-only),
// inside a test namespace: applies the steps given as JSON in argv[2], then
// prints {outcomes, state} as JSON, state being readState of argv[3..]
// (given GN_EXPECTED, JSON {ifname: Route[]}, as its `expected` routes).
import { listLinks } from '../../agent/discover/sysfs';
import { createNetlinkBackend } from '../../agent/netlink/backend';
import type { Route } from '../../agent/convention/types';
import type { Step } from '../../agent/plan/steps';

async function main(): Promise<void> {
  const steps = JSON.parse(process.argv[2] ?? '[]') as Step[];
  const names = process.argv.slice(3);
  const backend = await createNetlinkBackend();
  try {
    const outcomes = await backend.apply(steps);
    const links = listLinks().filter((l) => names.includes(l.name));
    const wanted = JSON.parse(process.env.GN_EXPECTED ?? '{}') as Record<string, Route[]>;
    const expected = new Map(links.flatMap((l) => (wanted[l.name] ? [[l.ifindex, wanted[l.name]] as const] : [])));
    const state = await backend.readState(links, expected.size > 0 ? expected : undefined);
    process.stdout.write(JSON.stringify({ outcomes, state: { links: Object.fromEntries(state.links), forwarding: state.forwarding } }));
  } finally {
    backend.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
