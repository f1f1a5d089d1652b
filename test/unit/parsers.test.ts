import { batchLine, batchWord, classifyIpError, describeStep, exitCause, ipArgs } from '../../agent/apply/ip-commands';
import { parseBatchErrors } from '../../agent/apply/ip-backend';
import type { Step } from '../../agent/plan/steps';
import { parseIpAddrOneline } from '../../agent/state/ip-addr';
import { parseIpJsonAddrs, parseIpJsonRoutes, splitJsonLines } from '../../agent/state/ip-json';
import { parseProcRoutes } from '../../agent/state/procfs';

test('parseProcRoutes reads host-order hex, masks and metrics', () => {
  const text = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'v0\t00000000\t0100FEA9\t0003\t0\t0\t5\t00000000\t0\t0\t0',
    'v0\t0100FEA9\t00000000\t0005\t0\t0\t5\tFFFFFFFF\t0\t0\t0',
    'v1\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'v1\t0000A8C1\t00000000\t0000\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    '',
  ].join('\n');
  expect(Object.fromEntries(parseProcRoutes(text))).toEqual({
    v0: [
      { dst: 'default', via: '169.254.0.1', metric: 5 },
      { dst: '169.254.0.1/32', metric: 5 },
    ],
    v1: [{ dst: '192.168.0.0/24', metric: 0 }],
  });
});

test('parseIpAddrOneline reads iproute2 and busybox one-line output', () => {
  const text = [
    '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
    '3: v0    inet 100.64.165.70/32 scope global v0\\       valid_lft forever preferred_lft forever',
    '3: v0    inet 192.168.7.7/24 brd 192.168.7.255 scope global v0\\       valid_lft forever',
    '4: eth1@if5    inet 169.254.0.1/32 scope global eth1\\       valid_lft forever',
  ].join('\n');
  expect(Object.fromEntries(parseIpAddrOneline(text))).toEqual({
    lo: [{ address: '127.0.0.1', prefix: 8 }],
    v0: [
      { address: '100.64.165.70', prefix: 32 },
      { address: '192.168.7.7', prefix: 24 },
    ],
    eth1: [{ address: '169.254.0.1', prefix: 32 }],
  });
});

test('parseBatchErrors maps each error text to its batch line', () => {
  const stderr = 'RTNETLINK answers: File exists\nCommand failed -:2\nCannot find device "nosuch"\nCommand failed -:3\n';
  expect(Object.fromEntries(parseBatchErrors(stderr))).toEqual({ 2: 'RTNETLINK answers: File exists', 3: 'Cannot find device "nosuch"' });
});

describe('ip commands', () => {
  const add: Step = { action: 'addr-add', ifname: 'eth0', addr: { address: '100.64.0.1', prefix: 32 } };
  const delAddr: Step = { action: 'addr-del', ifname: 'eth0', addr: { address: '100.64.1.10', prefix: 24 } };
  const del: Step = { action: 'route-del', ifname: 'eth0', route: { dst: 'default', via: '169.254.0.1', metric: 7 } };

  test('iproute2 replaces, busybox adds (it has no addr replace)', () => {
    expect(ipArgs(add, 'iproute2')).toEqual(['addr', 'replace', '100.64.0.1/32', 'dev', 'eth0']);
    expect(ipArgs(add, 'busybox')).toEqual(['addr', 'add', '100.64.0.1/32', 'dev', 'eth0']);
    expect(describeStep(del)).toBe('ip route del default via 169.254.0.1 dev eth0 metric 7');
    expect(describeStep({ action: 'forwarding-on' })).toBe('sysctl -w net.ipv4.ip_forward=1');
  });

  test('link-set: the group is `ip link set group` for iproute2, not an `ip` command for busybox (sysfs); sysctls are files', () => {
    const set: Step = { action: 'link-set', ifname: 'p$x', group: 26478, sysctls: [{ sysctl: 'ipv6/accept_ra', value: '0' }] };
    expect(ipArgs(set, 'iproute2')).toEqual(['link', 'set', 'dev', 'p$x', 'group', '26478']);
    expect(ipArgs(set, 'busybox')).toBeUndefined();
    expect(ipArgs({ action: 'link-set', ifname: 'p0', sysctls: [] }, 'iproute2')).toBeUndefined();
    expect(describeStep(set)).toBe("sysctl -w 'net/ipv6/conf/p$x/accept_ra=0'; ip link set dev 'p$x' group 26478");
  });

  test.each([
    [add, 'ip: RTNETLINK answers: File exists', undefined],
    [del, 'RTNETLINK answers: No such process', undefined],
    [delAddr, 'Error: ipv4: Address not found.', undefined], // a secondary gone with its primary
    [del, 'ip: RTNETLINK answers: File exists', 'File exists'],
    [add, 'RTNETLINK answers: Operation not permitted', 'permission denied (run as root or with CAP_NET_ADMIN)'],
    [add, 'Cannot find device "eth0"', 'no such interface (it vanished)'],
    [add, 'ip: SIOCGIFFLAGS: No such device', 'no such interface (it vanished)'],
    [add, 'Error: Invalid prefix for given prefix length.', 'Invalid prefix for given prefix length.'],
  ])('%o answered %j -> %j', (step, text, cause) => expect(classifyIpError(step, text)).toBe(cause));
});

test('ip -4 -j -N -batch: addresses and routes with their protocols, odd names intact', () => {
  // Captured from iproute2 6.1 (`addr show`, then `route show table main`), shortened.
  const out = [
    '[{"ifindex":2,"link":"a#b","ifname":"p\\"q","flags":["UP"],"addr_info":[{"family":"inet","local":"100.64.1.2","prefixlen":32,"scope":"0","label":"p\\"q"},{"family":"inet","local":"198.51.100.1","prefixlen":32,"protocol":"179"}]}]',
    '[{"dst":"169.254.0.1","dev":"p\\"q","protocol":"179","scope":"253","metric":7,"flags":[]},{"dst":"default","gateway":"169.254.0.1","dev":"p\\"q","protocol":"3","metric":7,"flags":[]},{"dst":"203.0.113.0/24","dev":"p\\"q","protocol":"4","scope":"253","flags":[]},{"type":"6","dst":"203.0.113.128/25","flags":[]}]',
    '',
  ].join('\n');
  const [addrs, routes] = splitJsonLines(out);
  expect(Object.fromEntries(parseIpJsonAddrs(addrs))).toEqual({
    'p"q': [{ address: '100.64.1.2', prefix: 32 }, { address: '198.51.100.1', prefix: 32, proto: 179 }],
  });
  expect(Object.fromEntries(parseIpJsonRoutes(routes))).toEqual({
    'p"q': [
      { dst: '169.254.0.1/32', metric: 7, proto: 179 },
      { dst: 'default', via: '169.254.0.1', metric: 7, proto: 3 },
      { dst: '203.0.113.0/24', metric: 0, proto: 4 },
    ],
  });
});

test('route protocols printed as names (an ip that ignores -N) are read too; an unknown name is someone else\'s', () => {
  const routes = '[{"dst":"100.64.0.1","dev":"e","protocol":"static"},{"dst":"100.64.0.2","dev":"e","protocol":"bird"},{"dst":"100.64.0.3","dev":"e","protocol":"kernel"},{"dst":"100.64.0.4","dev":"e","protocol":"unspec"}]';
  expect(parseIpJsonRoutes(routes).get('e')?.map((r) => r.proto)).toEqual([4, -1, 2, 0]);
});

describe('ip -batch words, as iproute2\'s lexer reads them', () => {
  test.each([
    ['eth0', 'eth0'],
    ['a"b', 'a"b'], // a quote only counts at the start of a word
    ['a\\b', 'a\\b'],
    ['a$(id)', 'a$(id)'],
    ['"q', "'\"q'"],
    ["'q", '"\'q"'],
    ['z\\', '"z\\"'], // a trailing backslash would join the next line
    ['a#b', undefined], // '#' cuts the line, quoted or not
  ])('%j -> %j', (word, quoted) => expect(batchWord(word)).toBe(quoted));

  test('a line with an inexpressible word is undefined', () => {
    expect(batchLine(['link', 'set', 'dev', 'a#b', 'up'])).toBeUndefined();
    expect(batchLine(['link', 'set', 'dev', '"q', 'up'])).toBe("link set dev '\"q' up");
  });
});

test.each([
  [{ code: 0, stdout: '', stderr: '' }, undefined],
  [{ code: 3, stdout: '', stderr: '' }, 'ip exited with status 3'],
  [{ code: 1, signal: 'SIGKILL' as const, stdout: '', stderr: '' }, 'ip killed by SIGKILL'],
  [{ code: 2, stdout: '', stderr: 'RTNETLINK answers: No buffer space available\n' }, 'No buffer space available (ip exited with status 2)'],
])('exitCause(%o) = %j', (out, cause) => expect(exitCause(out)).toBe(cause));

test('route-add carries guestnet\'s protocol; deletes match any', () => {
  const route = { dst: 'default', via: '169.254.0.1', metric: 7 };
  expect(ipArgs({ action: 'route-add', ifname: 'e', route }, 'busybox')).toEqual(['route', 'replace', 'default', 'via', '169.254.0.1', 'dev', 'e', 'metric', '7', 'proto', '179']);
  expect(ipArgs({ action: 'route-del', ifname: 'e', route }, 'iproute2')).not.toContain('proto');
});
