import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { version } from '../../package.json';
import { GUESTNET, Netns, veth } from '../helpers/netns';

// The executable runs only its own code, whatever the environment and the
// working directory hold (agent/build/inert-env.ts, agent/entry/environment.ts).

let dir: string;
let marker: string;

/** guestnet with `env` added to this process's environment, in `dir`. */
function guestnet(args: string[], env: Record<string, string>, cwd = dir) {
  const r = spawnSync(GUESTNET, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(GUESTNET)) throw new Error(`${GUESTNET} is missing: run make build first`);
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gn-env-'));
  marker = join(dir, 'ran');
  // What a preload, a config file or an override would run: it leaves a marker.
  writeFileSync(join(dir, 'x.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('BUN_OPTIONS does not preload a file', () => {
  expect(guestnet(['--version'], { BUN_OPTIONS: `--preload ${dir}/x.js` })).toMatchObject({ code: 0, stdout: `${version}\n` });
  expect(existsSync(marker)).toBe(false);
});

test('BUN_BE_BUN does not turn guestnet into bun', () => {
  expect(guestnet(['--version'], { BUN_BE_BUN: '1' })).toMatchObject({ code: 0, stdout: `${version}\n` });
});

test('bunfig.toml and .env in the working directory and in $HOME are not read', () => {
  const config = `preload = ["${dir}/x.js"]\n`;
  writeFileSync(join(dir, 'bunfig.toml'), config);
  writeFileSync(join(dir, '.bunfig.toml'), config);
  // Loaded, it would put an engine option in the environment, which guestnet refuses.
  writeFileSync(join(dir, '.env'), 'BUN_JSC_useDollarVM=1\n');
  expect(guestnet(['--version'], { HOME: dir, XDG_CONFIG_HOME: dir })).toMatchObject({ code: 0, stdout: `${version}\n` });
  expect(existsSync(marker)).toBe(false);
});

test('BUN_BYTECODE_ORDER_OUT does not write a file', () => {
  const out = join(dir, 'order');
  expect(guestnet(['--version'], { BUN_BYTECODE_ORDER_OUT: out })).toMatchObject({ code: 0 });
  expect(existsSync(out)).toBe(false);
});

test('BUN_INSPECT_CONNECT_TO does not hand the process to a debugger', async () => {
  const socket = join(dir, 'inspector.sock');
  let connections = 0;
  const server = createServer((c) => (connections++, c.destroy()));
  await new Promise<void>((res) => server.listen(socket, res));
  try {
    // A run that lasts a second (waiting for a missing link), for bun's debugger thread to connect in.
    const env = { ...process.env, BUN_INSPECT_CONNECT_TO: `unix://${socket}` };
    const child = spawn(GUESTNET, ['apply', '--dry-run', '--wait', '1', 'nosuch'], { env });
    await new Promise((res) => child.on('close', res));
    await new Promise((res) => setImmediate(res));
    expect(connections).toBe(0);
  } finally {
    server.close();
  }
});

test('BUN_JSC_* (engine options bun applies before guestnet runs): refused, exit 1, one line, nothing configured', () => {
  const ns = new Netns('env');
  const peer = new Netns('envp');
  try {
    veth(ns, 'eth0', '0a:b3:ec:00:00:11', peer, 'eth1', '0a:b3:ec:80:00:11');
    const r = ns.run('env', ['BUN_JSC_useDollarVM=1', GUESTNET, 'apply']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('guestnet: error: BUN_JSC_useDollarVM set: guestnet does not run with JavaScriptCore options from the environment\n');
    expect(ns.addrs('eth0')).toEqual([]);
    // The variables made inert leave apply as it is.
    const ran = ns.run('env', [`BUN_OPTIONS=--preload ${dir}/x.js`, 'BUN_BE_BUN=1', GUESTNET, 'apply']);
    expect(ran).toMatchObject({ code: 0 });
    expect(ns.addrs('eth0')).toEqual(['100.64.0.17/32']);
    expect(existsSync(marker)).toBe(false);
  } finally {
    ns.delete();
    peer.delete();
  }
});
