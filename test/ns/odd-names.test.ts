import { Netns } from '../helpers/netns';
import { BACKENDS } from './backends';

// Interface names are any 1-15 bytes but '/', ':' and white space, so a
// guest may well have `a#b` ('#' starts a comment in `ip -batch`), quotes,
// a backslash or `$(...)`. Every backend configures and flushes them; no
// shell ever sees them.

const NAMES = ['a#b', 'a"b', "a'b", 'a\\b', 'a$(id)', '"q', "'q", 'z\\'];
const macOf = (i: number) => `0a:b3:ec:00:07:${(i + 1).toString(16).padStart(2, '0')}`;

let ns: Netns;
beforeAll(() => {
  ns = new Netns('odd');
  // One process per link: no shell and no batch lexer between the test and the names.
  NAMES.forEach((name, i) => {
    const r = ns.run('ip', ['link', 'add', name, 'address', macOf(i), 'type', 'veth', 'peer', 'name', `peer${i}`]);
    if (r.code !== 0) throw new Error(`ip link add ${name}: ${r.stderr}`);
  });
});
afterAll(() => ns.delete());

const addrsOf = (name: string): string[] => {
  const r = ns.run('ip', ['-j', '-4', 'addr', 'show', 'dev', name]);
  const out = JSON.parse(r.stdout) as { addr_info: { local: string; prefixlen: number }[] }[];
  return out.flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
};
const routesOf = (name: string): number => (JSON.parse(ns.run('ip', ['-j', '-4', 'route', 'show', 'dev', name]).stdout) as unknown[]).length;

describe.each(BACKENDS)('odd interface names (%s backend)', (_name, flags) => {
  test('apply configures every one, status finds nothing to do, flush removes it all', () => {
    const r = ns.guestnet(['apply', ...flags]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    NAMES.forEach((name, i) => {
      expect([name, addrsOf(name)]).toEqual([name, [`100.64.7.${i + 1}/32`]]);
      expect([name, routesOf(name)]).toEqual([name, 2]);
    });
    const { interfaces: status } = JSON.parse(ns.guestnet(['status', '--json', ...flags]).stdout) as { interfaces: { ifname: string; drifted?: boolean }[] };
    expect(status.filter((s) => s.drifted !== undefined).map((s) => [s.ifname, s.drifted])).toEqual(NAMES.map((n) => [n, false]));
    const f = ns.guestnet(['flush', ...flags]);
    expect(f.stderr).not.toMatch(/error/);
    expect(f.code).toBe(0);
    for (const name of NAMES) expect([name, addrsOf(name), routesOf(name)]).toEqual([name, [], 0]);
  });
});
