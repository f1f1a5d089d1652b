// Run by bench/soak.ts under bun, inside a namespace where `guestnet watch`
// keeps a table: `nft flush ruleset` ROUNDS times, and how long after each
// flush the table is back. Both instants are the arrivals of the kernel's
// own nf_tables notifications (the flush's DELTABLE, the restore's
// NEWTABLE) on one socket, so neither nft's start-up nor a polling loop is
// in the number.
import { spawnSync } from 'node:child_process';
import { decodeMessages, type NlMessage } from '../agent/netlink/message';
import { namesOurTable } from '../agent/nft/decode';
import { nftType, NFT_MSG_DELTABLE, NFT_MSG_NEWTABLE } from '../agent/nft/nfnl';
import { WatchSockets } from '../agent/watch/sockets-bun';
import { ms, sleep, stats } from './soak.lib';

const ROUNDS = Number(process.argv[2] ?? 20);
const TIMEOUT_MS = 5_000;

const isTable = (type: number) => (m: NlMessage) => m.type === nftType(type) && namesOurTable(m);

async function main(): Promise<void> {
  const sockets = new WatchSockets();
  const fd = sockets.openTableEvents();
  const reader = Bun.file(fd).stream().getReader();
  /** The arrival time of the next datagram holding a message `match` accepts. */
  const next = async (match: (m: NlMessage) => boolean): Promise<number> => {
    for (;;) {
      const r = await reader.read();
      if (r.done || !r.value) throw new Error('nf_tables event stream ended');
      if (decodeMessages(r.value).some(match)) return performance.now();
    }
  };
  const samples: number[] = [];
  let missed = 0;
  for (let i = 0; i < ROUNDS; i++) {
    await sleep(100 + Math.random() * 100); // the previous restore's own events settle
    const flushed = next(isTable(NFT_MSG_DELTABLE));
    spawnSync('nft', ['flush', 'ruleset']);
    const t0 = await flushed;
    const back = next(isTable(NFT_MSG_NEWTABLE)).then((t) => t - t0);
    const timeout = sleep(TIMEOUT_MS).then(() => undefined);
    const delay = await Promise.race([back, timeout]);
    if (delay === undefined) missed++;
    else samples.push(delay);
  }
  await reader.cancel();
  sockets.close(fd);
  const s = stats(samples);
  console.log(`nft flush ruleset -> table back: median ${ms(s.median)}  p90 ${ms(s.p90)}  worst ${ms(s.worst)}  (n=${s.n}, not back within ${TIMEOUT_MS / 1000} s: ${missed})`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
