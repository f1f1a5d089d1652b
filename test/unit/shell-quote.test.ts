import { spawnSync } from 'node:child_process';
import { shellCommand, shellQuote } from '../../agent/apply/shell-quote';

// Printed command lines are pasted into shells: sh must read back each word as it was.

const WORDS = ['eth0', '100.64.0.9/32', 'a$(id)', 'a b', "it's", 'a#b', '`id`', 'a;b', '*', '~x', 'a\\b', '"q"', ''];

test.each(WORDS.map((w) => [w]))('sh reads %j back unchanged', (word) => {
  const r = spawnSync('sh', ['-c', `printf '%s\\n' ${shellQuote(word)}`], { encoding: 'utf8' });
  expect(r.stdout).toBe(`${word}\n`);
});

test('plain words stay as they are, so ordinary plans read as before', () => {
  expect(shellCommand(['ip', 'route', 'replace', 'default', 'via', '169.254.0.1', 'dev', 'eth0', 'metric', '1033'])).toBe(
    'ip route replace default via 169.254.0.1 dev eth0 metric 1033',
  );
  expect(shellCommand(['ip', 'link', 'set', 'dev', 'a$(id)', 'up'])).toBe(`ip link set dev 'a$(id)' up`);
});
