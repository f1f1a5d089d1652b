// yargs' validation texts, rewritten in guestnet's voice: the option or word
// named once, as typed, with what is wrong about it. Pure, so it is tested alone.

/** The command named on the line, or '' when none is. */
const command = (argv: readonly string[], commands: readonly string[]): string => argv.find((a) => commands.includes(a)) ?? '';

/** The word as the user typed it: `--name` for an option, else the bare word. */
function asTyped(name: string, argv: readonly string[]): string {
  const option = name.length === 1 ? `-${name}` : `--${name}`;
  const typed = argv.some((a) => a === option || a.startsWith(`${option}=`) || a === `--no-${name}`);
  return typed ? option : `"${name}"`;
}

function unknown(list: string, argv: readonly string[], commands: readonly string[]): string {
  const words = list.split(', ').map((n) => asTyped(n, argv));
  if (words.every((w) => w.startsWith('-'))) return `unknown option${words.length > 1 ? 's' : ''} ${words.join(', ')}`;
  const word = words.find((w) => !w.startsWith('-')) ?? words[0];
  return command(argv, commands) === ''
    ? `unknown command ${word} (commands: ${commands.join(', ')})`
    : `unexpected argument${words.length > 1 ? 's' : ''} ${words.join(', ')}`;
}


const RULES: [RegExp, (m: RegExpMatchArray, argv: readonly string[], commands: readonly string[]) => string][] = [
  [/^Unknown arguments?: (.*)$/s, (m, argv, commands) => unknown(m[1], argv, commands)],
  [/^Unknown commands?: (.*)$/s, (m, _argv, commands) => `unknown command "${m[1]}" (commands: ${commands.join(', ')})`],
  [/^Invalid values:\s+Argument: (\S+), Given: (.*), Choices: (.*)$/s, (m) => `--${m[1]}: ${m[2]} is not one of ${m[3].replace(/"/g, '')}`],
  [/^Not enough arguments following: (\S+)$/, (m, argv) => `${asTyped(m[1], argv)}: needs a value`],
  [/^Not enough non-option arguments/, (_m, argv, commands) => `${command(argv, commands)}: an argument is missing (see guestnet ${command(argv, commands)} --help)`],
  [/^Too many non-option arguments/, (_m, argv, commands) => `${command(argv, commands)}: too many arguments (see guestnet ${command(argv, commands)} --help)`],
];

/** yargs' message for a usage error, in guestnet's words (unknown texts pass through). */
export function usageMessage(msg: string, argv: readonly string[], commands: readonly string[]): string {
  for (const [re, text] of RULES) {
    const m = msg.match(re);
    if (m) return text(m, argv, commands);
  }
  return msg;
}
