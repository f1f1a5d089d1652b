import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

// The repository documents itself: every link in its Markdown resolves to a
// file inside it, and no file points at documents outside the checkout.

const ROOT = resolve(__dirname, '../..');
const tracked = (...patterns: string[]): string[] =>
  execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', ...patterns], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && existsSync(resolve(ROOT, f)));

test('README and docs/ link to the contract, the operations guide and the man page', () => {
  const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
  for (const doc of ['docs/contract.md', 'docs/operations.md', 'docs/guestnet.8']) expect(readme).toContain(`](${doc})`);
});

test('every Markdown link stays inside the repository and names a file that exists', () => {
  const bad: string[] = [];
  for (const file of tracked('*.md')) {
    const text = readFileSync(resolve(ROOT, file), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const path = resolve(ROOT, dirname(file), target.replace(/#.*$/, ''));
      const inside = !relative(ROOT, path).startsWith('..') && !/^[a-z]+:/i.test(target);
      if (!inside || !existsSync(path)) bad.push(`${file}: ${target}`);
    }
  }
  expect(bad).toEqual([]);
});

test('no file in the repository points to documents outside it', () => {
  const outside = ['../' + 'shared', '/work/' + 'shared'];
  const hits = tracked().filter((f) => !f.endsWith('package-lock.json')).filter((f) => {
    const text = readFileSync(resolve(ROOT, f), 'latin1');
    return outside.some((o) => text.includes(o));
  });
  expect(hits).toEqual([]);
});
