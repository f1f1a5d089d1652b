// The uplink as plain data: what a VM should hold, the plan that gets it
// there, and nft's JSON listing read back into the same shape.
import { DEFAULT_UPLINK, desiredUplink, sameUplink, type UplinkTable } from '../../agent/convention/uplink';
import { parseNftJson } from '../../agent/nft/json';
import { planUplink } from '../../agent/plan/uplink';

const FULL = desiredUplink(true, DEFAULT_UPLINK) as UplinkTable;
const ISOLATE_ONLY = desiredUplink(true, { masquerade: false, isolate: true }) as UplinkTable;

test('a table only with a provider link, and only with something in it', () => {
  expect(desiredUplink(false, DEFAULT_UPLINK)).toBeUndefined();
  expect(desiredUplink(true, { masquerade: false, isolate: false })).toBeUndefined();
  expect(FULL.chains.map((c) => c.name)).toEqual(['postrouting', 'forward']);
  expect(ISOLATE_ONLY.chains.map((c) => c.name)).toEqual(['forward']);
});

test.each([
  ['none wanted, none there', undefined, undefined, []],
  ['wanted, none there', FULL, undefined, ['uplink-set']],
  ['wanted and there', FULL, FULL, []],
  ['wanted, a different one there', ISOLATE_ONLY, FULL, ['uplink-set']],
  ['none wanted, one there', undefined, FULL, ['uplink-del']],
] as const)('plan: %s', (_what, desired, current, actions) => {
  expect(planUplink(desired, current).map((s) => s.action)).toEqual(actions);
});

test('the set step carries the whole desired table', () => {
  expect(planUplink(ISOLATE_ONLY, FULL)).toEqual([{ action: 'uplink-set', table: ISOLATE_ONLY }]);
});

// `nft -j list table ip guestnet` after guestnet set it (nftables 1.0.6).
const LISTED = JSON.stringify({ nftables: [
  { metainfo: { version: '1.0.6', json_schema_version: 1 } },
  { table: { family: 'ip', name: 'guestnet', handle: 2 } },
  { chain: { family: 'ip', table: 'guestnet', name: 'postrouting', handle: 1, type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } },
  { chain: { family: 'ip', table: 'guestnet', name: 'forward', handle: 2, type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } },
  { rule: { family: 'ip', table: 'guestnet', chain: 'postrouting', handle: 3, expr: [
    { match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: { prefix: { addr: '100.64.0.0', len: 16 } } } },
    { match: { op: '!=', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: { prefix: { addr: '100.64.0.0', len: 16 } } } },
    { masquerade: null },
  ] } },
  { rule: { family: 'ip', table: 'guestnet', chain: 'forward', handle: 4, expr: [
    { match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: { prefix: { addr: '100.64.0.0', len: 16 } } } },
    { match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: { prefix: { addr: '100.64.0.0', len: 16 } } } },
    { drop: null },
  ] } },
] });

test("nft's JSON listing reads back as the table guestnet wants", () => {
  expect(sameUplink(parseNftJson(LISTED), FULL)).toBe(true);
  expect(sameUplink(parseNftJson(LISTED), ISOLATE_ONLY)).toBe(false);
});

test('an extra expression (a counter someone added) makes it differ', () => {
  const edited = LISTED.replace('{"masquerade":null}', '{"counter":{"packets":0,"bytes":0}},{"masquerade":null}');
  expect(sameUplink(parseNftJson(edited), FULL)).toBe(false);
});
