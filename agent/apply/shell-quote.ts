// Command lines guestnet prints (logs, --dry-run) must be safe to paste into
// a POSIX shell: Linux allows interface names such as `a$(id)` or `a b`.

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One word for sh: unchanged when nothing in it is special, else single-quoted. */
export function shellQuote(word: string): string {
  return PLAIN.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export const shellCommand = (words: readonly string[]): string => words.map(shellQuote).join(' ');
