import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GUESTNET } from '../helpers/netns';

// docs/guestnet.8 and the CLI cannot drift: the commands and options are
// read from the executable's own --help (yargs' declaration, whatever branch
// added them) and from the man page's item headers, and must be the same.

const MAN = resolve(__dirname, '../../docs/guestnet.8');

function help(args: string[]): string {
  const r = spawnSync(GUESTNET, [...args, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '100' } });
  expect(r.status).toBe(0);
  return r.stdout;
}

/** The options a help text lists: `-q`, `--quiet`, `--dry-run`. */
function optionsIn(text: string): Set<string> {
  const options = new Set<string>();
  for (const m of text.matchAll(/^ {2}(?:(-\w), )? *(--[\w-]+)/gm)) {
    if (m[1]) options.add(m[1]);
    options.add(m[2]);
  }
  return options;
}

/** Commands and options as yargs knows them, and each command's own options. */
function cli() {
  const top = help([]);
  const commands = [...top.matchAll(/^ {2}guestnet (\w+)/gm)].map((m) => m[1]);
  const global = optionsIn(top);
  const own = new Map(commands.map((c) => [c, [...optionsIn(help([c]))].filter((o) => !global.has(o)).sort()]));
  const options = new Set([...global, ...[...own.values()].flat()]);
  return { commands: commands.sort(), options: [...options].sort(), own };
}

const optionNames = (header: string): string[] => header.match(/(?<![\w-])--?[a-z][\w-]*/g) ?? [];

/** The first line after each `.TP`: the item headers of COMMANDS and OPTIONS. */
function manWords(): { commands: string[]; options: string[] } {
  const lines = readFileSync(MAN, 'utf8').split('\n');
  const section = (name: string) => {
    const start = lines.indexOf(`.SH ${name}`);
    const end = lines.findIndex((l, i) => i > start && l.startsWith('.SH '));
    return lines.slice(start, end);
  };
  const headers = (part: string[]) => part.flatMap((l, i) => (part[i - 1] === '.TP' ? [l.replace(/\\-/g, '-')] : []));
  const commands = headers(section('COMMANDS')).map((h) => h.split(/\s+/)[1]);
  const options = new Set(headers(section('OPTIONS')).flatMap(optionNames));
  // `--no-X` is yargs' negation of a boolean `--X`, which it lists alone.
  for (const o of [...options]) if (o.startsWith('--no-') && options.has(`--${o.slice(5)}`)) options.delete(o);
  return { commands: commands.sort(), options: [...options].sort() };
}

test('every command and option the CLI knows is in guestnet(8), and nothing else is', () => {
  const { commands, options } = cli();
  expect(commands).toContain('apply');
  expect(options).toEqual(expect.arrayContaining(['--dry-run', '--notify-fd', '-q', '--help']));
  expect(manWords()).toEqual({ commands, options });
});

test("a command's own options are described under a heading that names the command", () => {
  const lines = readFileSync(MAN, 'utf8').split('\n');
  const described = new Map<string, Set<string>>(); // command -> options under a heading naming it
  let named: string[] = [];
  lines.forEach((line, i) => {
    if (line.startsWith('.S')) named = line.startsWith('.SS ') ? line.slice(4).split(/\W+/) : [];
    if (lines[i - 1] !== '.TP') return;
    for (const c of named) for (const o of optionNames(line.replace(/\\-/g, '-'))) described.set(c, (described.get(c) ?? new Set()).add(o));
  });
  for (const [command, own] of cli().own) {
    expect([command, own.filter((o) => !described.get(command)?.has(o))]).toEqual([command, []]);
  }
});

test('guestnet(8) renders without a warning and has the sections a man page needs', () => {
  const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', MAN], { encoding: 'utf8' });
  expect(r).toMatchObject({ status: 0, stderr: '' });
  const page = spawnSync('man', ['-l', MAN], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80', MAN_KEEP_FORMATTING: '' } });
  expect(page.status).toBe(0);
  for (const s of ['NAME', 'SYNOPSIS', 'COMMANDS', 'OPTIONS', 'EXIT STATUS', 'FILES', 'EXAMPLES']) {
    expect(page.stdout).toMatch(new RegExp(`^${s}$`, 'm'));
  }
});
