import { clientAddress, deriveDesired, kindOf, roleOf } from '../../agent/convention/derive';
import { ownsAddr, ownsRoute } from '../../agent/convention/ownership';
import { formatMac, parseMac } from '../../agent/convention/mac';
import { checkOptions } from '../../agent/convention/options';
import { DEFAULT_OPTIONS as OPTS, type Link } from '../../agent/convention/types';
import { UsageError } from '../../agent/errors';

const LAA = { ...OPTS, scheme: 'laa' as const };

describe('parseMac', () => {
  test.each([
    ['0A:B3:EC:00:A5:46', '0a:b3:ec:00:a5:46'],
    ['0a:b3:ec:00:a5:46', '0a:b3:ec:00:a5:46'],
    [' 0a-B3-ec-00-A5-46\n', '0a:b3:ec:00:a5:46'],
    ['0a-b3:EC:00-a5:46', '0a:b3:ec:00:a5:46'],
  ])('%j parses', (text, formatted) => expect(formatMac(parseMac(text))).toBe(formatted));

  test.each([
    '', '0a:b3:ec:00:a5', '0a:b3:ec:00:a5:46:00', '0a:b3:ec:00:a5:4g', '0ab3ec00a546', '0a:b3:ec:00:a5:4',
    '0a.b3.ec.00.a5.46', '0a:b3:ec:00:a5:-6', '0a:b3:ec:00:a5:46x', 'G0:b3:ec:00:a5:46', '0a:b3:ec:00:a5::6',
  ])(
    '%j is malformed',
    (text) => expect(() => parseMac(text)).toThrow(UsageError),
  );
});

describe('the address rule (SPEC §2)', () => {
  test.each([
    ['0A:B3:EC:00:A5:46', '100.64.165.70'],
    ['0a:b3:ec:00:00:00', '100.64.0.0'],
    ['0a:b3:ec:00:ff:ff', '100.64.255.255'],
    ['0a:b3:ec:80:a5:46', '100.64.165.70'],
    ['02:00:00:00:A5:46', '100.64.165.70'],
  ])('%s -> %s', (mac, address) => expect(clientAddress(parseMac(mac))).toBe(address));
});

describe('roles by scheme (SPEC §1, §5)', () => {
  test.each([
    ['0a:b3:ec:00:a5:46', OPTS, 'client'],
    ['0a:b3:ec:7f:a5:46', OPTS, 'client'],
    ['0a:b3:ec:80:a5:46', OPTS, 'provider'],
    ['0a:b3:ec:ff:a5:46', OPTS, 'provider'],
    ['0a:b3:ed:00:a5:46', OPTS, undefined],
    ['02:00:00:00:a5:46', OPTS, undefined],
    ['02:00:00:00:a5:46', LAA, 'client'],
    ['02:01:00:00:a5:46', LAA, 'provider'],
    ['02:02:00:00:a5:46', LAA, undefined],
    ['0a:b3:ec:00:a5:46', LAA, undefined],
  ])('%s under %o is %s', (mac, options, role) => expect(roleOf(parseMac(mac), options)).toBe(role));
});

describe('kindOf', () => {
  const link = (name: string, type = 1): Link => ({ name, ifindex: 2, mac: '', type, up: false, group: 0 });
  test.each([
    [link('lo', 772), '00:00:00:00:00:00', 'ignored'],
    [link('eth0'), '00:00:00:00:00:00', 'ignored'],
    [link('ib0', 32), '0a:b3:ec:00:00:01', 'ignored'],
    [link('eth0'), '52:54:00:12:34:56', 'hardware'],
    [link('eth0'), '0a:b3:ec:00:00:01', 'client'],
  ])('%o with %s is %s', (l, mac, kind) => expect(kindOf(l, parseMac(mac), OPTS)).toBe(kind));
});

describe('deriveDesired (SPEC §3)', () => {
  test('client: /32 address, host route to the gateway, default route, metric from the MAC', () => {
    expect(deriveDesired('eth0', parseMac('0a:b3:ec:00:a5:46'), 'client', OPTS)).toEqual({
      ifname: 'eth0',
      role: 'client',
      client: '100.64.165.70',
      addr: { address: '100.64.165.70', prefix: 32 },
      routes: [
        { dst: '169.254.0.1/32', metric: 1024 + 0xa546 },
        { dst: 'default', via: '169.254.0.1', metric: 1024 + 0xa546 },
      ],
    });
  });

  test('client options: gateway, prefix 16, no default route', () => {
    const d = deriveDesired('eth0', parseMac('0a:b3:ec:00:00:01'), 'client', {
      ...OPTS,
      gateway: '169.254.9.9',
      clientPrefix: 16,
      defaultRoute: false,
    });
    expect(d.addr).toEqual({ address: '100.64.0.1', prefix: 16 });
    expect(d.routes).toEqual([{ dst: '169.254.9.9/32', metric: 1025 }]);
  });

  test('provider: the gateway address and a host route to the client behind it', () => {
    expect(deriveDesired('eth1', parseMac('0a:b3:ec:80:a5:46'), 'provider', OPTS)).toEqual({
      ifname: 'eth1',
      role: 'provider',
      client: '100.64.165.70',
      addr: { address: '169.254.0.1', prefix: 32 },
      routes: [{ dst: '100.64.165.70/32', metric: 0 }],
      settings: { group: 0x676e, sysctls: { 'ipv4/rp_filter': '1', 'ipv6/accept_ra': '0', 'ipv6/autoconf': '0' } },
    });
  });
});

describe('ownership (SPEC §4)', () => {
  test.each([
    [{ address: '100.64.1.2', prefix: 32 }, true],
    [{ address: '100.64.255.255', prefix: 16 }, true],
    [{ address: '169.254.0.1', prefix: 32 }, true],
    [{ address: '100.65.0.1', prefix: 32 }, false],
    [{ address: '169.254.0.2', prefix: 16 }, false],
    [{ address: '192.168.1.1', prefix: 24 }, false],
    [{ address: '198.51.100.1', prefix: 32, proto: 179 }, true], // marked: a gateway of an earlier run
    [{ address: '198.51.100.1', prefix: 32, proto: 4 }, false],
  ])('address %o owned: %s', (addr, owned) => expect(ownsAddr(addr, OPTS)).toBe(owned));

  test.each([
    [{ dst: 'default', via: '169.254.0.1', metric: 0 }, true],
    [{ dst: 'default', via: '192.168.1.1', metric: 0 }, false],
    [{ dst: '169.254.0.1/32', metric: 5 }, true],
    [{ dst: '100.64.3.4/32', metric: 0 }, true],
    [{ dst: '100.64.0.0/16', metric: 0 }, false],
    [{ dst: '100.64.3.4/32', via: '169.254.0.1', metric: 0 }, false],
    [{ dst: '10.1.0.0/16', metric: 0 }, false],
    [{ dst: 'default', via: '198.51.100.1', metric: 1282, proto: 179 }, true], // marked: an earlier gateway
    [{ dst: '198.51.100.1/32', metric: 1282, proto: 179 }, true],
    [{ dst: '198.51.100.1/32', metric: 1282, proto: 3 }, false],
    [{ dst: '169.254.0.1/32', metric: 5, proto: 3 }, true], // the shape Spectrum's scripts leave
    [{ dst: '100.64.3.4/32', metric: 0, proto: 0 }, true], // unset
    [{ dst: '100.64.3.4/32', metric: 0, proto: 2 }, true], // kernel
    [{ dst: '100.64.3.4/32', metric: 0, proto: 4 }, false], // static: a person's
    [{ dst: 'default', via: '169.254.0.1', metric: 7, proto: 12 }, false], // bird's
    [{ dst: '100.64.3.4/32', metric: 0, proto: -1 }, false], // known by another name only
  ])('route %o owned: %s', (route, owned) => expect(ownsRoute(route, OPTS)).toBe(owned));
});

describe('checkOptions', () => {
  test('keeps the default and normalizes a typed gateway', async () => {
    expect(await checkOptions(OPTS)).toBe(OPTS);
    expect((await checkOptions({ ...OPTS, gateway: '169.254.9.9' })).gateway).toBe('169.254.9.9');
  });
  test.each([
    [{ ...OPTS, gateway: 'nope' }, /--gateway/],
    [{ ...OPTS, gateway: '169.254.0.1/32' }, /--gateway/],
    [{ ...OPTS, clientPrefix: 8 }, /--prefix/],
    [{ ...OPTS, clientPrefix: 33 }, /--prefix/],
    [{ ...OPTS, clientPrefix: 24.5 }, /--prefix/],
  ])('%o is refused', async (options, msg) => expect(checkOptions(options)).rejects.toThrow(msg));
});
