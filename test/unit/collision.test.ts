import { PROVIDER_GROUP } from '../../agent/convention/provider-group';
import { collisionText, findCollisions, refuse } from '../../agent/convention/collision';
import { deriveDesired } from '../../agent/convention/derive';
import { parseMac } from '../../agent/convention/mac';
import { DEFAULT_OPTIONS, type Role } from '../../agent/convention/types';
import { misplacedSteps } from '../../agent/commands/misplaced';
import { planLink } from '../../agent/plan/planner';
import { Claims } from '../../agent/watch/claims';

const LAA = { ...DEFAULT_OPTIONS, scheme: 'laa' as const };
const desired = (ifname: string, mac: string, role: Role, options = DEFAULT_OPTIONS) => deriveDesired(ifname, parseMac(mac), role, options);

test.each([
  ['two oui providers differing in octet 4\'s low bits', [['eth1', '0a:b3:ec:80:00:11', 'provider'], ['eth2', '0a:b3:ec:81:00:11', 'provider']], DEFAULT_OPTIONS],
  ['two oui clients', [['eth1', '0a:b3:ec:00:00:11', 'client'], ['eth2', '0a:b3:ec:7f:00:11', 'client']], DEFAULT_OPTIONS],
  ['two laa providers differing in octets 3-4', [['p1', '02:01:00:00:00:11', 'provider'], ['p2', '02:01:ab:cd:00:11', 'provider']], LAA],
] as const)('%s collide on 100.64.0.17', (_what, links, options) => {
  const found = findCollisions(links.map(([n, mac, role]) => desired(n, mac, role, options)));
  const role = links[0][2];
  expect(Object.fromEntries(found)).toEqual({
    [links[0][0]]: { address: '100.64.0.17', role, ifnames: [links[0][0], links[1][0]] },
    [links[1][0]]: { address: '100.64.0.17', role, ifnames: [links[0][0], links[1][0]] },
  });
});

test('a client and a provider link with one address, and distinct addresses, do not collide', () => {
  expect(findCollisions([desired('c', '0a:b3:ec:00:00:11', 'client'), desired('p', '0a:b3:ec:80:00:11', 'provider')]).size).toBe(0);
  expect(findCollisions([desired('a', '0a:b3:ec:80:00:11', 'provider'), desired('b', '0a:b3:ec:80:00:12', 'provider')]).size).toBe(0);
});

test('three links: one collision naming all three, in one line', () => {
  const found = findCollisions(['eth3', 'eth1', 'eth2'].map((n, i) => desired(n, `0a:b3:ec:8${i}:00:11`, 'provider')));
  const c = found.get('eth2');
  expect(c?.ifnames).toEqual(['eth1', 'eth2', 'eth3']);
  expect(c && collisionText(c)).toBe('provider links eth1, eth2 and eth3 derive the same client address 100.64.0.17 from their MACs: none gets a route to it while more than one is there');
});

const link = { name: 'eth1', ifindex: 2, mac: '0a:b3:ec:80:00:11', type: 1, up: true, group: PROVIDER_GROUP };

test('a refused provider keeps the gateway address and loses the route to the client', () => {
  const d = desired('eth1', link.mac, 'provider');
  const c = { address: '100.64.0.17', role: 'provider' as const, ifnames: ['eth1', 'eth2'] };
  const current = { addrs: [{ address: '169.254.0.1', prefix: 32 }], routes: [{ dst: '100.64.0.17/32', metric: 0, proto: 179 }] };
  expect(planLink(link, refuse(d, c), current, DEFAULT_OPTIONS)).toEqual([{ action: 'route-del', ifname: 'eth1', route: current.routes[0] }]);
});

test('a refused client gets no address and no routes', () => {
  const d = desired('eth0', '0a:b3:ec:00:00:11', 'client');
  const c = { address: '100.64.0.17', role: 'client' as const, ifnames: ['eth0', 'eth9'] };
  const current = { addrs: [{ address: '100.64.0.17', prefix: 32 }], routes: d.routes };
  const steps = planLink({ ...link, name: 'eth0' }, refuse(d, c), current, DEFAULT_OPTIONS);
  expect(steps.map((s) => s.action)).toEqual(['route-del', 'route-del', 'addr-del']);
});

test('the watcher\'s claims: a second link collides, its going ends it, each change touches the partners', () => {
  const claims = new Claims(DEFAULT_OPTIONS);
  const eth1 = { name: 'eth1', ifindex: 2, mac: '0a:b3:ec:80:00:11', type: 1, up: true, group: PROVIDER_GROUP };
  const eth2 = { ...eth1, name: 'eth2', ifindex: 3, mac: '0a:b3:ec:81:00:11' };
  claims.track(eth1);
  expect([claims.collisionsOf([2]).size, claims.takeTouched()]).toEqual([0, []]);
  claims.track(eth2);
  expect(claims.collisionsOf([3]).get('eth1')).toEqual({ address: '100.64.0.17', role: 'provider', ifnames: ['eth1', 'eth2'] });
  expect([claims.partnersOf(3), claims.takeTouched().sort()]).toEqual([[2], [2, 3]]);
  claims.forget(3);
  expect([claims.collisionsOf([2]).size, claims.takeTouched()]).toEqual([0, [2]]);
});

test('the watcher\'s claims from full listings (polling): a collision touches its links when it begins and ends, not at every listing', () => {
  const claims = new Claims(DEFAULT_OPTIONS);
  const eth1 = { name: 'eth1', ifindex: 2, mac: '0a:b3:ec:80:00:11', type: 1, up: true, group: PROVIDER_GROUP };
  const eth2 = { ...eth1, name: 'eth2', ifindex: 3, mac: '0a:b3:ec:81:00:11' };
  claims.retrack([eth1]);
  claims.takeTouched();
  claims.retrack([eth1, eth2]);
  expect(claims.takeTouched().sort()).toEqual([2, 3]);
  claims.retrack([eth1, eth2]);
  claims.retrack([eth1, eth2]);
  expect(claims.takeTouched()).toEqual([]);
  claims.retrack([eth1]);
  expect(claims.takeTouched()).toEqual([2]);
});

test('misplacedSteps: the batch\'s addresses and guestnet-marked routes on other links, nothing else', () => {
  const applied = [{ action: 'addr-add' as const, ifname: 'eth1', addr: { address: '169.254.0.1', prefix: 32 } }];
  const others = new Map([['nic0', {
    addrs: [{ address: '169.254.0.1', prefix: 32 }, { address: '192.0.2.5', prefix: 24 }],
    routes: [{ dst: '100.64.0.17/32', metric: 0, proto: 179 }, { dst: '192.0.2.0/24', metric: 0, proto: 2 }],
  }]]);
  expect(misplacedSteps(applied, others)).toEqual([
    { action: 'addr-del', ifname: 'nic0', addr: { address: '169.254.0.1', prefix: 32 } },
    { action: 'route-del', ifname: 'nic0', route: { dst: '100.64.0.17/32', metric: 0, proto: 179 } },
  ]);
});
