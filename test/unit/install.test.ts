import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// `make install DESTDIR=...` lays out what an image builder copies in.

test('make install puts the executable and the integration files in place', () => {
  const dest = mkdtempSync(join(tmpdir(), 'gn-install-'));
  try {
    execFileSync('make', ['-s', 'install', `DESTDIR=${dest}`], { cwd: resolve(__dirname, '../..') });
    const files = execFileSync('find', [dest, '-type', 'f'], { encoding: 'utf8' })
      .trim().split('\n').map((f) => f.slice(dest.length)).sort();
    expect(files).toEqual([
      '/usr/bin/guestnet',
      '/usr/lib/systemd/system/guestnet.service',
      '/usr/share/guestnet/mdev.conf',
      '/usr/share/guestnet/s6-rc/guestnet/notification-fd',
      '/usr/share/guestnet/s6-rc/guestnet/run',
      '/usr/share/guestnet/s6-rc/guestnet/type',
      '/usr/share/guestnet/udev/90-guestnet.rules',
    ]);
    expect(statSync(join(dest, 'usr/bin/guestnet')).mode & 0o111).toBe(0o111);
    expect(spawnSync(join(dest, 'usr/bin/guestnet'), ['--version']).status).toBe(0);
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
});
