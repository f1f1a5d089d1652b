// The boundary as plain data: policy from options, the ruleset it makes
// (as nft text), the plan that gets the kernel there, and the option parsers.
import {
  DEFAULT_BOUNDARY, defaultFlowLimit, deriveBoundary, kernelConntrackMax, parseFlowLimit, parseOpenPorts, type BoundaryOptions,
} from '../../agent/convention/boundary';
import { PROVIDER_GROUP } from '../../agent/convention/provider-group';
import { rulesetFor } from '../../agent/nft/ruleset';
import { rulesText } from '../../agent/nft/script';
import { planUplink } from '../../agent/plan/uplink';
import { held } from '../helpers/nft-held';

const rules = (opts: Partial<BoundaryOptions>, gateway = '169.254.0.1'): string[] =>
  rulesText(rulesetFor(deriveBoundary({ ...DEFAULT_BOUNDARY, ...opts }, gateway, 262144)));

test('the provider group is "gn"', () => {
  expect(PROVIDER_GROUP).toBe(26478);
});

test('the default table, rule by rule', () => {
  expect(rules({})).toEqual([
    'prerouting: iifgroup 26478 fib saddr . iif oif missing drop',
    'input: iifgroup 26478 jump from_client',
    'input: ip daddr 169.254.0.1 ct state new iif != "lo" drop',
    'from_client: ct state established accept',
    'from_client: ip daddr 169.254.0.1 icmp type echo-request accept',
    'from_client: ip daddr 169.254.0.1 udp dport 53 accept',
    'from_client: ip daddr 169.254.0.1 tcp dport 53 accept',
    'from_client: drop',
    'forward: ip daddr 169.254.0.0/16 drop',
    'forward: ip saddr 169.254.0.0/16 drop',
    'forward: ct state established,related accept',
    'forward: ct state invalid drop',
    'forward: iifgroup 26478 meta nfproto ipv6 drop',
    'forward: iifgroup 26478 oifgroup != 26478 ct state new add @flows { ip saddr ct count over 32768 } drop',
    'forward: iifgroup 26478 oifgroup != 26478 accept',
    'forward: iifgroup 26478 oifgroup 26478 drop',
    'forward: oifgroup 26478 drop',
    'postrouting: ip saddr 100.64.0.0/16 ip daddr != 100.64.0.0/16 masquerade',
  ]);
});

// Each option, as the rules it changes: [what, options, rules it adds, rules it removes].
test.each<[string, Partial<BoundaryOptions>, string[], string[]]>([
  ['--no-masquerade', { masquerade: false }, [], ['postrouting: ip saddr 100.64.0.0/16 ip daddr != 100.64.0.0/16 masquerade']],
  ['--allow-client-to-client', { isolate: false }, ['forward: iifgroup 26478 oifgroup 26478 accept'], ['forward: iifgroup 26478 oifgroup 26478 drop']],
  ['--client-flow-limit 100', { flowLimit: 100 },
    ['forward: iifgroup 26478 oifgroup != 26478 ct state new add @flows { ip saddr ct count over 100 } drop'],
    ['forward: iifgroup 26478 oifgroup != 26478 ct state new add @flows { ip saddr ct count over 32768 } drop']],
  ['--client-flow-limit off', { flowLimit: 'off' }, [], ['forward: iifgroup 26478 oifgroup != 26478 ct state new add @flows { ip saddr ct count over 32768 } drop']],
  ['--open-port tcp/8080 --open-port udp/5353', { openPorts: [{ proto: 'tcp', port: 8080 }, { proto: 'udp', port: 5353 }] },
    ['from_client: ip daddr 169.254.0.1 tcp dport 8080 accept', 'from_client: ip daddr 169.254.0.1 udp dport 5353 accept'], []],
])('%s', (_what, opts, added, removed) => {
  const base = rules({});
  const changed = rules(opts);
  expect(changed.filter((r) => !base.includes(r))).toEqual(added);
  expect(base.filter((r) => !changed.includes(r))).toEqual(removed);
});

test('another gateway is the address clients reach and the LAN does not', () => {
  expect(rules({}, '169.254.7.7').filter((r) => r.includes('169.254.7.7'))).toHaveLength(4);
});

test('the flows set is there only with a limit', () => {
  expect(rulesetFor(deriveBoundary(DEFAULT_BOUNDARY, '169.254.0.1', 8192)).sets).toEqual([{ name: 'flows', size: 65535 }]);
  expect(rulesetFor(deriveBoundary({ ...DEFAULT_BOUNDARY, flowLimit: 'off' }, '169.254.0.1', 8192)).sets).toEqual([]);
});

test.each([
  // [nf_conntrack_max, per-client default]
  [262144, 32768],
  [7519, 939],
  [1024, 256],
])('auto flow limit: nf_conntrack_max %i gives %i', (max, limit) => {
  expect(defaultFlowLimit(max)).toBe(limit);
});

test.each([
  // [MemTotal bytes, nf_conntrack_max as Linux would set it]
  [24 * 2 ** 30, 262144],
  [2 * 2 ** 30, 65536],
  [985 * 2 ** 20, 7880],
  [64 * 2 ** 20, 1024],
])('before nf_conntrack loads: %i bytes of RAM give nf_conntrack_max %i', (mem, max) => {
  expect(kernelConntrackMax(mem)).toBe(max);
});

const FULL = rulesetFor(deriveBoundary(DEFAULT_BOUNDARY, '169.254.0.1', 8192));
const OPEN = rulesetFor(deriveBoundary({ ...DEFAULT_BOUNDARY, isolate: false }, '169.254.0.1', 8192));

test.each([
  ['none wanted, none there', undefined, held(undefined), []],
  ['wanted, none there', FULL, held(undefined), ['uplink-set']],
  ['wanted and there', FULL, held(FULL), []],
  ['wanted, a different one there', OPEN, held(FULL), ['uplink-set']],
  ['none wanted, one there', undefined, held(FULL), ['uplink-del']],
  ['wanted and there, and the old table ip guestnet too', FULL, { ...held(FULL), legacy: true }, ['uplink-set']],
  ['none wanted, only the old table there', undefined, { table: undefined, legacy: true }, ['uplink-del']],
] as const)('plan: %s', (_what, desired, found, actions) => {
  expect(planUplink(desired, found).map((s) => s.action)).toEqual(actions);
});

test('the set step carries the whole desired table', () => {
  expect(planUplink(OPEN, held(FULL))).toEqual([{ action: 'uplink-set', table: OPEN }]);
});

test.each([
  ['100', 100],
  ['auto', 'auto'],
  ['off', 'off'],
])('--client-flow-limit %s', (text, value) => {
  expect(parseFlowLimit(text)).toBe(value);
});

test.each(['0', '-1', '1e3', 'many', '4294967296', ''])('--client-flow-limit %j is a usage error', (text) => {
  expect(() => parseFlowLimit(text)).toThrow(`--client-flow-limit: "${text}" is not a number of flows from 1 to 4294967295, "auto" or "off"`);
});

test('--open-port: tcp and udp, the same port once', () => {
  expect(parseOpenPorts(['tcp/8080', 'udp/53', 'tcp/8080'])).toEqual([{ proto: 'tcp', port: 8080 }, { proto: 'udp', port: 53 }]);
});

test.each(['tcp/0', 'tcp/65536', 'sctp/80', 'tcp:80', '8080', 'tcp/'])('--open-port %j is a usage error', (text) => {
  expect(() => parseOpenPorts([text])).toThrow(`--open-port: "${text}" is not PROTO/PORT (tcp or udp, port 1-65535)`);
});
