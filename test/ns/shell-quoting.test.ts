import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns } from '../helpers/netns';

// A printed plan is a shell script: pasted into sh it must do exactly what it
// says, also for a link whose legal name is shell syntax.

const NAME = 'a$(id)';
const METRIC = 1024 + 0x0009;

let ns: Netns;
let bin: string;
const marker = () => join(bin, 'id-ran');

beforeEach(() => {
  ns = new Netns('quote');
  // No shell between us and ip: the name reaches the kernel as typed.
  const add = ns.run('ip', ['link', 'add', NAME, 'address', '0a:b3:ec:00:00:09', 'type', 'veth', 'peer', 'name', 'peer0']);
  expect(add.stderr).toBe('');
  bin = mkdtempSync(join(tmpdir(), 'gn-quote-'));
  // An `id` that leaves a trace, first on PATH: running it is the failure.
  writeFileSync(join(bin, 'id'), `#!/bin/sh\ntouch '${marker()}'\n`);
  chmodSync(join(bin, 'id'), 0o755);
});
afterEach(() => {
  ns.delete();
  rmSync(bin, { recursive: true, force: true });
});

function paste(plan: string): void {
  const r = ns.run('env', [`PATH=${bin}:${process.env.PATH}`, 'sh', '-e'], plan);
  expect(r).toMatchObject({ code: 0, stderr: '' });
}

function addrs(): string[] {
  const out = JSON.parse(ns.run('ip', ['-j', '-4', 'addr', 'show', 'dev', NAME]).stdout) as { addr_info: { local: string; prefixlen: number }[] }[];
  return out.flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
}

function routes(): string[] {
  const out = JSON.parse(ns.run('ip', ['-j', '-4', 'route', 'show']).stdout) as { dst: string; gateway?: string; dev: string; metric?: number }[];
  return out.map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev} metric ${r.metric ?? 0}`).sort();
}

test('apply --dry-run and flush --dry-run, pasted into sh, do what they print', () => {
  const plan = ns.guestnet(['apply', '--dry-run']);
  expect(plan.code).toBe(0);
  expect(plan.stdout).toBe(
    [
      `ip link set dev 'a$(id)' up`,
      `ip addr replace 100.64.0.9/32 dev 'a$(id)'`,
      `ip route replace 169.254.0.1/32 dev 'a$(id)' metric ${METRIC} proto 179`,
      `ip route replace default via 169.254.0.1 dev 'a$(id)' metric ${METRIC} proto 179`,
    ].join('\n') + '\n',
  );
  paste(plan.stdout);
  expect(existsSync(marker())).toBe(false);
  expect(addrs()).toEqual(['100.64.0.9/32']);
  expect(routes()).toEqual([`169.254.0.1 dev ${NAME} metric ${METRIC}`, `default via 169.254.0.1 dev ${NAME} metric ${METRIC}`].sort());
  expect(ns.guestnet(['apply', '--dry-run'])).toMatchObject({ code: 0, stdout: '' });
  expect(ns.guestnet(['status', NAME]).stdout).toMatch(/^a\$\(id\) 0a:b3:ec:00:00:09 client ok\n/);

  const flush = ns.guestnet(['flush', '--dry-run']);
  expect(flush.code).toBe(0);
  expect(flush.stdout.split('\n').filter(Boolean)).toHaveLength(3); // two routes, the address
  expect(addrs()).toEqual(['100.64.0.9/32']); // a dry run changes nothing
  paste(flush.stdout);
  expect(existsSync(marker())).toBe(false);
  expect(addrs()).toEqual([]);
  expect(routes()).toEqual([]);
  expect(ns.guestnet(['flush', '--dry-run'])).toMatchObject({ code: 0, stdout: '' });
});

test('a provider link\'s settings, pasted into sh, are set on that link', () => {
  const provider = 'p$(id)';
  expect(ns.run('ip', ['link', 'add', provider, 'address', '0a:b3:ec:80:00:0a', 'type', 'veth', 'peer', 'name', 'peer1']).stderr).toBe('');
  const plan = ns.guestnet(['apply', '--dry-run', provider]);
  expect(plan.stdout).toContain(`sysctl -w 'net/ipv4/conf/p$(id)/rp_filter=1'\nsysctl -w 'net/ipv6/conf/p$(id)/accept_ra=0'\n`);
  paste(plan.stdout);
  expect(existsSync(marker())).toBe(false);
  expect(ns.group(provider)).toBe('26478');
  expect(['ipv4/conf/X/rp_filter', 'ipv6/conf/X/autoconf'].map((p) => ns.sysctl(`net/${p.replace('X', provider)}`))).toEqual(['1', '0']);
});

test('flush --json prints the plan it carried out', () => {
  expect(ns.guestnet(['apply']).code).toBe(0);
  const r = ns.guestnet(['flush', '--json']);
  expect(r.code).toBe(0);
  const result = JSON.parse(r.stdout) as { dryRun: boolean; steps: { step: { action: string; ifname: string } }[]; interfaces: unknown[] };
  expect(result.dryRun).toBe(false);
  expect(result.steps.map((s) => s.step.action).sort()).toEqual(['addr-del', 'route-del', 'route-del']);
  expect(result.interfaces).toEqual([{ ifname: NAME, role: 'client', ok: true }]);
  expect(addrs()).toEqual([]);
});
