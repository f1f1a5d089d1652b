import { classifyIpError, describeStep, ipArgs } from '../../agent/apply/ip-commands';
import { parseBatchErrors } from '../../agent/apply/ip-backend';
import type { Step } from '../../agent/plan/steps';
import { parseIpAddrOneline } from '../../agent/state/ip-addr';
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
  const del: Step = { action: 'route-del', ifname: 'eth0', route: { dst: 'default', via: '169.254.0.1', metric: 7 } };

  test('iproute2 replaces, busybox adds (it has no addr replace)', () => {
    expect(ipArgs(add, 'iproute2')).toEqual(['addr', 'replace', '100.64.0.1/32', 'dev', 'eth0']);
    expect(ipArgs(add, 'busybox')).toEqual(['addr', 'add', '100.64.0.1/32', 'dev', 'eth0']);
    expect(describeStep(del)).toBe('ip route del default via 169.254.0.1 dev eth0 metric 7');
    expect(describeStep({ action: 'forwarding-on' })).toBe('sysctl -w net.ipv4.ip_forward=1');
  });

  test.each([
    [add, 'ip: RTNETLINK answers: File exists', undefined],
    [del, 'RTNETLINK answers: No such process', undefined],
    [del, 'ip: RTNETLINK answers: File exists', 'File exists'],
    [add, 'RTNETLINK answers: Operation not permitted', 'permission denied (run as root or with CAP_NET_ADMIN)'],
    [add, 'Cannot find device "eth0"', 'no such interface (it vanished)'],
    [add, 'ip: SIOCGIFFLAGS: No such device', 'no such interface (it vanished)'],
    [add, 'Error: Invalid prefix for given prefix length.', 'Invalid prefix for given prefix length.'],
  ])('%o answered %j -> %j', (step, text, cause) => expect(classifyIpError(step, text)).toBe(cause));
});
