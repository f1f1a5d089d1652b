import { existsSync } from 'node:fs';
import { GUESTNET, Netns, veth } from '../helpers/netns';
import { BACKENDS } from './backends';

// Routes of guestnet's shape but another protocol (a person's `proto static`,
// a routing daemon's `proto bird`) are someone else's: apply and flush leave
// them, while unmarked (boot) and guestnet-marked stale ones go (SPEC §4).

beforeAll(() => {
  if (!existsSync(GUESTNET)) throw new Error(`${GUESTNET} is missing: run make build first`);
});

/** Routes through `dev` as `dst proto P` (-N: numbers), sorted. */
function routesOf(ns: Netns, dev: string): string[] {
  const out = JSON.parse(ns.sh(`ip -j -N -4 route show table main dev ${dev}`)) as { dst: string; protocol?: string }[];
  return out.map((r) => `${r.dst} proto ${r.protocol ?? '3'}`).sort();
}

describe.each(BACKENDS)('routes of other protocols (%s backend)', (_name, flags) => {
  let net: Netns;
  let app: Netns;

  beforeEach(() => {
    net = new Netns('fr-net');
    app = new Netns('fr-app');
    veth(app, 'eth0', '0a:b3:ec:00:00:11', net, 'eth1', '0a:b3:ec:80:00:11');
  });
  afterEach(() => {
    net.delete();
    app.delete();
  });

  test('a provider link keeps static, bird and other routes into 100.64/16; boot and guestnet stale ones go', () => {
    expect(net.guestnet(['apply', ...flags])).toMatchObject({ code: 0 });
    net.sh(`ip route add 100.64.0.30/32 dev eth1 proto static
      ip route add 100.64.0.31/32 dev eth1 proto bird
      ip route add 100.64.0.32/32 dev eth1 proto 77
      ip route add 100.64.0.40/32 dev eth1
      ip route add 100.64.0.41/32 dev eth1 proto 179
      ip route add 100.64.0.42/32 dev eth1 proto kernel`);
    expect(net.guestnet(['apply', ...flags])).toMatchObject({ code: 0 });
    expect(routesOf(net, 'eth1')).toEqual(['100.64.0.17 proto 179', '100.64.0.30 proto 4', '100.64.0.31 proto 12', '100.64.0.32 proto 77']);
    const again = net.guestnet(['apply', '--json', ...flags]);
    expect(JSON.parse(again.stdout)).toMatchObject({ steps: [] });
    // flush plans only guestnet's route (the kernel then drops the rest with the link's last address).
    const flush = JSON.parse(net.guestnet(['flush', '--dry-run', '--json', ...flags]).stdout) as { steps: { action: string; route?: { dst: string } }[] };
    expect(flush.steps.filter((s) => s.action === 'route-del').map((s) => s.route?.dst)).toEqual(['100.64.0.17/32']);
  });

  test("a client link keeps a person's default route via the gateway", () => {
    expect(app.guestnet(['apply', ...flags])).toMatchObject({ code: 0 });
    app.sh('ip route add default via 169.254.0.1 dev eth0 metric 7 proto static');
    expect(app.guestnet(['apply', ...flags])).toMatchObject({ code: 0 });
    expect(app.routes()).toContain('default via 169.254.0.1 dev eth0 metric 7');
  });
});
