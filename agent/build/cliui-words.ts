import cliui from '../../node_modules/cliui/build/index.cjs';

// yargs' help layout, bundled in place of cliui's ESM entry, which wraps in
// the middle of words. This is cliui's CommonJS build (word wrap, as yargs
// has under node) with one fix: an annotation such as `[boolean]` that just
// fits after a description was glued to its last word ("stdout[boolean]");
// it now keeps a space or moves to the next line.

interface Line {
  text: string;
  span?: boolean;
  hidden?: boolean;
}

type Ui = ReturnType<typeof cliui>;

export default function ui(opts: Parameters<typeof cliui>[0]): Ui {
  const u = cliui(opts);
  // renderInline is private in cliui's types; this replaces it on the one instance.
  (u as unknown as { renderInline(source: string, previous: Line): string }).renderInline = (source, previous) => {
    const text = source.trimStart();
    const indent = source.length - text.length;
    const target = previous.text.trimEnd();
    if (!previous.span || (text !== '' && indent <= target.length)) return source;
    previous.hidden = true;
    return text === '' ? target : target + ' '.repeat(indent - target.length) + text;
  };
  return u;
}
