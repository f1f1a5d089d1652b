import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUESTNET, Netns, veth, type Ran } from '../helpers/netns';
import { BACKENDS } from './backends';
import { until } from './watch-process';

// Fail closed: IPv4 forwarding follows the firewall table, never precedes
// it. What can be simulated in a namespace: no nft binary (for the nft CLI
// driver), and a table that cannot be set: another process holds
// `table inet guestnet` with `flags owner`, so the kernel refuses anyone
// else's change to it (EPERM), on every backend. A kernel without nf_tables
// cannot be had here (the host's modules are shared): the netlink driver's
// answer to that is unit-tested (test/unit/nft-netlink.test.ts).

const forwarding = (ns: Netns): string => ns.sh('cat /proc/sys/net/ipv4/ip_forward').trim();
const errors = (r: Ran): string[] => r.stderr.split('\n').filter((l) => /error/i.test(l));

let prov: Netns;
let c1: Netns;
beforeEach(() => {
  prov = new Netns('pv');
  c1 = new Netns('c1');
  veth(prov, 'p0', '0a:b3:ec:80:00:05', c1, 'c0', '0a:b3:ec:00:00:05');
});
afterEach(() => [prov, c1].forEach((ns) => ns.delete()));

describe('without the nft binary', () => {
  let bin: string;
  beforeEach(() => {
    bin = mkdtempSync(join(tmpdir(), 'gn-nonft-'));
    symlinkSync(execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim(), join(bin, 'ip'));
  });
  afterEach(() => rmSync(bin, { recursive: true, force: true }));

  test.each(BACKENDS.filter(([name]) => name !== 'iproute2'))('%s needs no nft', (_name, flags) => {
    expect(prov.run('env', [`PATH=${bin}`, GUESTNET, 'apply', ...flags]).code).toBe(0);
    expect(prov.sh('nft list ruleset')).toContain('table inet guestnet');
    expect(forwarding(prov)).toBe('1');
  });

  test('--backend ip (iproute2): one clear error line, exit 1, forwarding left off, the link still configured', () => {
    const r = prov.run('env', [`PATH=${bin}`, GUESTNET, 'apply', '--backend', 'ip']);
    expect(r.code).toBe(1);
    expect(errors(r)).toEqual([
      'guestnet: error: firewall table inet guestnet not in place: cannot run "nft" for the firewall table: not found (install nftables); IPv4 forwarding not switched on',
    ]);
    expect(forwarding(prov)).toBe('0');
    expect(prov.addrs('p0')).toEqual(['169.254.0.1/32']);
    expect(prov.sh('nft list ruleset')).toBe('');
    const report = JSON.parse(prov.run('env', [`PATH=${bin}`, GUESTNET, 'report', '--json', '--backend', 'ip']).stdout);
    const check = report.checks.find((c: { id: string }) => c.id === 'provider-forwarding');
    expect(check.detail).toContain('(left off, fail closed: the firewall is not in place: cannot run "nft" for the firewall table');
  });
});

describe.each(BACKENDS)('a table guestnet cannot set (%s)', (_name, flags) => {
  let holder: ChildProcess;
  beforeEach(async () => {
    // nft -i keeps its socket, and so the table's owner, while its stdin is open.
    holder = spawn('ip', ['netns', 'exec', prov.name, 'nft', '-i'], { stdio: ['pipe', 'ignore', 'ignore'] });
    holder.stdin?.write('add table inet guestnet { flags owner; }\n');
    await until('the table is held', () => prov.sh('nft list tables').includes('inet guestnet'));
  });
  afterEach(() => holder.kill());

  test('apply exits 1 with one line, forwarding stays off; once the table is free, apply sets it and then forwarding', async () => {
    const r = prov.guestnet(['apply', ...flags]);
    expect(r.code).toBe(1);
    expect(errors(r)).toHaveLength(1);
    expect(errors(r)[0]).toMatch(/^guestnet: error: firewall table inet guestnet not in place: .*(permission denied|not permitted).*; IPv4 forwarding not switched on$/i);
    expect(forwarding(prov)).toBe('0');
    expect(prov.addrs('p0')).toEqual(['169.254.0.1/32']);
    const status = prov.guestnet(['status', ...flags]);
    expect(status.stdout).toContain('firewall table inet guestnet DRIFTED: its sets differ');
    holder.stdin?.end();
    await until('the table is released', () => !prov.sh('nft list tables').includes('inet guestnet'));
    expect(prov.guestnet(['apply', ...flags]).code).toBe(0);
    expect(forwarding(prov)).toBe('1');
  });
});
