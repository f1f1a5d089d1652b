// Run by bench/soak.ts under bun, inside a throwaway namespace: how soon
// each event source wakes the watcher after `ip link add` starts, and what a
// sysfs listing costs (the price of one poll).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { listLinks } from '../agent/discover/sysfs';
import { silentLogger } from '../agent/log';
import { openEventSource, type EventsName } from '../agent/watch/events';
import type { EventSource } from '../agent/watch/source';
import { ms, sleep, stats } from './soak.lib';

const ROUNDS = Number(process.argv[2] ?? 50);
const now = () => performance.now();

async function open(events: EventsName, pollMs: number): Promise<EventSource> {
  return openEventSource({ events, ipBinary: 'ip', pollMs }, silentLogger);
}

type Wake = { next?: () => void };

/** Arms `wake` to resolve at the first wake-up that finds ev0 in sysfs. */
function armed(wake: Wake): Promise<number> {
  return new Promise<number>((resolve) => {
    wake.next = () => {
      if (!existsSync('/sys/class/net/ev0')) return;
      wake.next = undefined;
      resolve(now());
    };
  });
}

/** One `ip link add` watched by every source at once: ms from ip's start to each source's wake-up. */
async function round(wakes: readonly Wake[]): Promise<number[]> {
  const woke = wakes.map(armed);
  const t0 = now();
  const child = spawn('ip', ['link', 'add', 'ev0', 'type', 'veth', 'peer', 'name', 'ev1']);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const [times] = await Promise.all([Promise.all(woke), exited]);
  spawnSync('ip', ['link', 'del', 'ev0']);
  return times.map((t) => t - t0);
}

/**
 * Sources listening side by side, so each link's wake-ups compare directly.
 * A random pause before each link keeps the polls' phase from repeating.
 */
async function measure(sources: readonly [string, EventsName, number][]): Promise<void> {
  const opened = await Promise.all(sources.map(([, events, pollMs]) => open(events, pollMs)));
  const wakes: Wake[] = opened.map(() => ({}));
  opened.forEach((s, i) => {
    const wake = (): void => wakes[i].next?.();
    s.start({ changed: wake, lost: wake, link: wake, state: () => undefined, table: () => undefined, failed: (err) => console.error(err.message) });
  });
  await sleep(200); // ip monitor needs a moment to subscribe
  const samples: number[][] = sources.map(() => []);
  for (let i = 0; i < ROUNDS; i++) {
    await sleep(20 + Math.random() * Math.max(...sources.map(([, , p]) => p)));
    (await round(wakes)).forEach((t, k) => samples[k].push(t));
  }
  await Promise.all(opened.map((s) => s.stop()));
  sources.forEach(([label], k) => {
    const a = stats(samples[k]);
    const lag = stats(samples[k].map((t, i) => t - Math.min(...samples.map((s) => s[i]))));
    console.log(`${label.padEnd(26)} from ip start: median ${ms(a.median)}, worst ${ms(a.worst)};  behind the first source: median ${ms(lag.median)}  (n=${a.n})`);
  });
}

function listingCost(): void {
  const n = 1000;
  const t0 = now();
  for (let i = 0; i < n; i++) listLinks();
  const per = (now() - t0) / n;
  console.log(`sysfs listing (${listLinks().length} links, 4 files each): ${ms(per)} per poll`);
}

async function main(): Promise<void> {
  console.log(`event sources: wake-up after \`ip link add\` starts (its own start-up is ~2 ms of that), ${ROUNDS} links`);
  await measure([['netlink (bun:ffi)', 'netlink', 0], ['ip -o monitor link', 'ip-monitor', 0]]);
  await measure([['poll sysfs every 250 ms', 'poll', 250]]);
  await measure([['poll sysfs every 10 ms', 'poll', 10]]);
  listingCost();
  spawnSync('sh', ['-c', 'for i in $(seq 1 20); do ip link add lc$i type veth peer name lp$i; done']);
  listingCost();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
