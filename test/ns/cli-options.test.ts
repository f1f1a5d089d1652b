import { Netns, veth } from '../helpers/netns';

// Options that change what apply does or says, checked against the kernel.

let ns: Netns;
beforeEach(() => (ns = new Netns('opt')));
afterEach(() => ns.delete());

test('--wait configures a NIC that appears after the agent started', async () => {
  const run = ns.guestnetAsync(['apply', '--wait', '10']);
  await new Promise((r) => setTimeout(r, 300));
  veth(ns, 'eth0', '0a:b3:ec:00:00:09', ns, 'peer0', '52:54:00:00:00:09');
  expect((await run).code).toBe(0);
  expect(ns.addrs('eth0')).toEqual(['100.64.0.9/32']);
});

test('--log-format json: one JSON object per line; -q: errors only', () => {
  veth(ns, 'eth0', '0a:b3:ec:00:00:09', ns, 'peer0', '52:54:00:00:00:09');
  const r = ns.guestnet(['apply', '--log-format', 'json']);
  expect(r.code).toBe(0);
  const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines.map((l) => l.action ?? l.event)).toEqual(['link-up', 'addr-add', 'route-add', 'route-add', 'configured']);
  expect(lines[1]).toMatchObject({ level: 'info', ifname: 'eth0', msg: 'ip addr replace 100.64.0.9/32 dev eth0' });
  ns.sh('ip addr flush dev eth0');
  expect(ns.guestnet(['apply', '-q'])).toMatchObject({ code: 0, stderr: '' });
  expect(ns.addrs('eth0')).toEqual(['100.64.0.9/32']);
});

test('--scheme laa, --prefix 16, --no-default-route', () => {
  veth(ns, 'eth0', '02:00:00:00:a5:46', ns, 'eth1', '02:01:00:00:a5:46');
  expect(ns.guestnet(['apply', '--scheme', 'laa', '--prefix', '16', '--no-default-route']).code).toBe(0);
  expect(ns.addrs('eth0')).toEqual(['100.64.165.70/16']);
  expect(ns.addrs('eth1')).toEqual(['169.254.0.1/32']);
  expect(ns.routes()).toEqual([`100.64.165.70 dev eth1 metric 0`, `169.254.0.1 dev eth0 metric ${1024 + 0xa546}`]);
  // Under oui these MACs are hardware: a run leaves what laa configured alone.
  expect(ns.guestnet(['apply', '--scheme', 'oui']).stderr).toContain('no inter-guest interfaces');
  expect(ns.addrs('eth0')).toEqual(['100.64.165.70/16']);
});
