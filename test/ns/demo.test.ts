import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// Keeps the README's demo command true: the built-in topology configures and pings.

test('make demo topology: every ping crosses, clients are isolated, and a second apply changes nothing', () => {
  const r = spawnSync('bash', [join(__dirname, '../demo.sh')], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status).toBe(0);
  expect(r.stdout.match(/^ok /gm)).toHaveLength(5);
  expect(r.stdout).not.toMatch(/FAIL/);
  const afterSecond = r.stderr.split('\n').slice(-2).join('\n');
  expect(afterSecond).toBe('guestnet: eth0: configured as client\n');
  expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(/gn-demo/);
});
