import { format } from 'node:util';

// English-only stand-in for y18n, bundled into the executable in place of the
// real one, which would read yargs' locale files from disk at run time.
// yargs' own English texts are its lookup keys, so formatting them is enough.

export default function y18n() {
  return {
    __: (text: string, ...args: unknown[]): string => format(text, ...args),
    __n: (singular: string, plural: string, count: number, ...args: unknown[]): string => {
      const text = count === 1 ? singular : plural;
      return format(text, ...(text.includes('%d') ? [count, ...args] : args));
    },
    setLocale: (): void => undefined,
    getLocale: (): string => 'en',
    updateLocale: (): void => undefined,
    locale: 'en',
  };
}
