// Run by bench/soak.ts under bun, inside a namespace where `guestnet watch`
// keeps a table: `nft flush ruleset` ROUNDS times, and how long after each
// flush the table is back. Both instants are the arrivals of the kernel's
// own nf_tables notifications (the flush's DELTABLE, the restore's
// NEWTABLE) on one socket, so neither nft's start-up nor a polling loop is
// in the number.
import { spawn } from 'node:child_process';
import { decodeMessages, type NlMessage } from '../agent/netlink/message';
import { namesOurTable } from '../agent/nft/decode';
import { nftType, NFT_MSG_DELTABLE, NFT_MSG_NEWTABLE } from '../agent/nft/nfnl';
import { WatchSockets } from '../agent/watch/sockets-bun';
import { ms, sleep, stats } from './soak.lib';

const ROUNDS = Number(process.argv[2] ?? 20);
const TIMEOUT_MS = 5_000;

const ours = (m: NlMessage, type: number): boolean => m.type === nftType(type) && namesOurTable(m);

/** `nft flush ruleset`, run without blocking the event loop that stamps the notifications. */
function flush(): Promise<void> {
  return new Promise((resolve) => spawn('nft', ['flush', 'ruleset'], { stdio: 'ignore' }).once('exit', () => resolve()));
}

/**
 * Stamps each message as its chunk arrives (bun's stream may hand over
 * several queued datagrams at once: then they share a stamp) and calls
 * `seen` for guestnet's DELTABLE and NEWTABLE, in order.
 */
async function listen(reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> }, seen: (type: number, t: number) => void): Promise<void> {
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    const t = performance.now();
    for (const m of decodeMessages(r.value ?? new Uint8Array(0))) {
      for (const type of [NFT_MSG_DELTABLE, NFT_MSG_NEWTABLE]) if (ours(m, type)) seen(type, t);
    }
  }
}

async function main(): Promise<void> {
  const sockets = new WatchSockets();
  const fd = sockets.openTableEvents();
  const reader = Bun.file(fd).stream().getReader();
  let round: { t0?: number; done: (delay: number) => void } | undefined;
  const listening = listen(reader, (type, t) => {
    if (type === NFT_MSG_DELTABLE && round && round.t0 === undefined) round.t0 = t;
    // The restore's batch deletes the table too, after adding it: its NEWTABLE comes first in the datagram.
    else if (type === NFT_MSG_NEWTABLE && round?.t0 !== undefined) round.done(t - round.t0);
  });
  const samples: number[] = [];
  let missed = 0;
  for (let i = 0; i < ROUNDS; i++) {
    // The previous restore read back (an nft process or two with the nft backend), its own events settled.
    await sleep(500 + Math.random() * 100);
    const back = new Promise<number>((done) => (round = { done }));
    await flush();
    const delay = await Promise.race([back, sleep(TIMEOUT_MS).then(() => undefined)]);
    round = undefined;
    if (delay === undefined) missed++;
    else samples.push(delay);
  }
  await reader.cancel();
  await listening.catch(() => undefined);
  sockets.close(fd);
  const s = stats(samples);
  console.log(`nft flush ruleset -> table back: median ${ms(s.median)}  p90 ${ms(s.p90)}  worst ${ms(s.worst)}  (n=${s.n}, not back within ${TIMEOUT_MS / 1000} s: ${missed})`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
