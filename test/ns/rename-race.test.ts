import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUESTNET, Netns, veth } from '../helpers/netns';
import { BACKENDS } from './backends';

// A udev-style rename while apply runs: an inter-guest link and a hardware
// NIC swap names over and over. `ip` acts by name, so a step can land on
// the NIC; guestnet must take it off again, and report must see it there.

const NIC_MAC = '52:54:00:12:34:56';
const RUNS = 10;
/** At most; the loop stops when the runs are done. */
const SWAPS = 5000;

beforeAll(() => {
  if (!existsSync(GUESTNET)) throw new Error(`${GUESTNET} is missing: run make build first`);
});

/** What only guestnet would put on the NIC: the gateway address, a 100.64 address, a route marked proto 179. */
function guestnetStateOnNic(ns: Netns): string[] {
  const links = JSON.parse(ns.sh('ip -j addr show')) as { ifname: string; address: string; addr_info: { family: string; local: string }[] }[];
  const nic = links.find((l) => l.address === NIC_MAC);
  if (!nic) throw new Error('the NIC vanished');
  const addrs = nic.addr_info.filter((a) => a.family === 'inet').map((a) => a.local).filter((a) => a === '169.254.0.1' || a.startsWith('100.64.'));
  const routes = JSON.parse(ns.sh(`ip -j -N -4 route show table main dev ${nic.ifname}`)) as { dst: string; protocol?: string }[];
  return [...addrs, ...routes.filter((r) => r.protocol === '179').map((r) => `route ${r.dst}`)];
}

describe.each(BACKENDS)('a rename race (%s backend)', (_name, flags) => {
  let net: Netns;
  let peer: Netns;

  beforeEach(() => {
    net = new Netns('rr-net');
    peer = new Netns('rr-peer');
    veth(net, 'eth1', '0a:b3:ec:80:00:11', peer, 'c1', '0a:b3:ec:00:00:11');
    veth(net, 'nic0', NIC_MAC, peer, 'up0', '52:54:00:65:43:21');
    net.sh('ip link set nic0 up');
  });
  afterEach(() => {
    net.delete();
    peer.delete();
  });

  test(`${RUNS} applies while eth1 and nic0 swap names leave nothing of guestnet's on the NIC`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gn-rr-'));
    const stop = join(dir, 'stop');
    try {
      const swap = `i=0; while [ ! -e ${stop} ] && [ $i -lt ${SWAPS} ]; do i=$((i+1)); ip link set eth1 name tmp0; ip link set nic0 name eth1; ip link set tmp0 name nic0; done`;
      const swapper = spawn('ip', ['netns', 'exec', net.name, 'sh', '-c', swap], { stdio: 'ignore' });
      const swapped = new Promise((res) => swapper.on('close', res));
      for (let i = 0; i < RUNS; i++) await net.guestnetAsync(['apply', ...flags]);
      writeFileSync(stop, '');
      await swapped;
      expect(guestnetStateOnNic(net)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  test('report flags the gateway address and a guestnet route planted on a hardware NIC', () => {
    net.sh('ip addr add 169.254.0.1/32 dev nic0; ip route add 100.64.0.99/32 dev nic0 proto 179');
    const r = net.guestnet(['report', '--json', ...flags]);
    expect(r.code).toBe(1);
    const checks = (JSON.parse(r.stdout) as { checks: { id: string; verdict: string; detail?: string }[] }).checks;
    expect(checks.find((c) => c.id === 'misplaced-state')).toEqual({
      id: 'misplaced-state',
      verdict: 'problem',
      detail: "gateway address 169.254.0.1/32 on hardware link nic0; route 100.64.0.99/32 marked as guestnet's on hardware link nic0: guestnet never puts these there (a link renamed while ip applied?); remove them",
    });
  });
});
