import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// `make install DESTDIR=... PREFIX=...` lays out what an image builder copies
// in, and every integration file calls the executable where it was installed.

const ROOT = resolve(__dirname, '../..');

function install(dest: string, prefix?: string) {
  return spawnSync('make', ['-s', 'install', `DESTDIR=${dest}`, ...(prefix === undefined ? [] : [`PREFIX=${prefix}`])], { cwd: ROOT, encoding: 'utf8' });
}

const INTEGRATION = [
  'lib/systemd/system/guestnet.service', 'share/guestnet/mdev.conf', 'share/guestnet/s6-rc/guestnet/run', 'share/guestnet/udev/90-guestnet.rules',
  'lib/systemd/system/guestnet-dns.service', 'share/guestnet/s6-rc/guestnet-dns/run',
];

test.each([['/usr'], ['/usr/local'], ['/opt/guestnet']])('make install PREFIX=%s: files in place, each naming the installed executable', (prefix) => {
  const dest = mkdtempSync(join(tmpdir(), 'gn-install-'));
  try {
    expect(install(dest, prefix)).toMatchObject({ status: 0, stderr: '' });
    const files = execFileSync('find', [dest, '-type', 'f'], { encoding: 'utf8' })
      .trim().split('\n').map((f) => f.slice(dest.length)).sort();
    expect(files).toEqual(
      [
        'bin/guestnet',
        'share/man/man8/guestnet.8',
        'share/guestnet/s6-rc/guestnet/notification-fd',
        'share/guestnet/s6-rc/guestnet/type',
        'share/guestnet/s6-rc/guestnet-dns/notification-fd',
        'share/guestnet/s6-rc/guestnet-dns/type',
        ...INTEGRATION,
      ].map((f) => `${prefix}/${f}`).sort(),
    );
    const binary = join(dest, prefix, 'bin/guestnet');
    expect(statSync(binary).mode & 0o111).toBe(0o111);
    expect(statSync(join(dest, prefix, 'share/guestnet/s6-rc/guestnet/run')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dest, prefix, 'share/guestnet/s6-rc/guestnet-dns/run')).mode & 0o777).toBe(0o755);
    expect(spawnSync(binary, ['--version']).status).toBe(0);
    for (const f of INTEGRATION) {
      const calls = readFileSync(join(dest, prefix, f), 'utf8').match(/\/[\w./+-]*\/guestnet(?= )/g);
      expect([f, calls]).toEqual([f, [`${prefix}/bin/guestnet`]]);
    }
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
});

test.each([['usr/local', /PREFIX must be an absolute path/], ['/opt/a b', /PREFIX '\/opt\/a b' has characters/]])(
  'make install refuses PREFIX=%j with a message',
  (prefix, msg) => {
    const dest = mkdtempSync(join(tmpdir(), 'gn-install-'));
    try {
      const r = install(dest, prefix);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(msg);
      expect(execFileSync('find', [dest, '-type', 'f'], { encoding: 'utf8' })).toBe('');
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  },
);
