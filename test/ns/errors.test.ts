import { GUESTNET, Netns, veth } from '../helpers/netns';

// Bad input and a hostile environment: one clear line naming the interface
// and the cause, and the documented exit code.

let ns: Netns;
beforeAll(() => {
  ns = new Netns('err');
  veth(ns, 'eth0', '0a:b3:ec:00:00:05', ns, 'hw0', '52:54:00:00:00:05');
});
afterAll(() => ns.delete());

const errorLines = (stderr: string) => stderr.split('\n').filter((l) => /error/.test(l));

test('a named interface that does not exist: exit 2, named', () => {
  const r = ns.guestnet(['apply', 'eth0', 'nosuch0']);
  expect(r.code).toBe(2);
  expect(errorLines(r.stderr)).toEqual(['guestnet: nosuch0: error: no such interface']);
  expect(ns.addrs('eth0')).toEqual([]); // nothing half-applied
});

test('a named hardware interface is left alone, exit 0', () => {
  const r = ns.guestnet(['apply', 'hw0']);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain('hw0: not an inter-guest interface');
  expect(ns.addrs('hw0')).toEqual([]);
});

test('no ip binary: exit 1, naming the interfaces and the cause', () => {
  const r = ns.guestnet(['apply', '--backend', 'ip', '--ip-binary', '/nonexistent/ip']);
  expect(r.code).toBe(1);
  expect(errorLines(r.stderr)).toEqual([
    'guestnet: eth0: error: cannot run "/nonexistent/ip": not found (install iproute2 or busybox, or pass --ip-binary)',
  ]);
});

test.each(['ip', 'netlink'])('no privileges (%s backend): exit 1, one line per failed interface naming the cause', (backend) => {
  const r = ns.run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', GUESTNET, 'apply', '--backend', backend]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^guestnet: eth0: error: .*permission denied \(run as root or with CAP_NET_ADMIN\)$/m);
  expect(ns.addrs('eth0')).toEqual([]);
});

test('unknown option and malformed MAC: exit 2', () => {
  expect(ns.guestnet(['apply', '--bogus']).code).toBe(2);
  const r = ns.guestnet(['derive', '0a:b3:ec:00:a5']);
  expect(r.code).toBe(2);
  expect(r.stderr).toBe('guestnet: error: malformed MAC address "0a:b3:ec:00:a5" (expected six hex octets like 0a:b3:ec:00:a5:46)\n');
});
