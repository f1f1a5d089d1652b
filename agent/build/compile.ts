// Builds dist/guestnet, one self-contained executable, with bun's compiler:
//   bun agent/build/compile.ts [--target bun-linux-x64-baseline] [--outfile dist/guestnet] [--entry FILE]
// (--entry builds another program the same way: the benchmark's runtime floor.)
// The executable reads no files at run time: no package.json, no yargs
// locales, no .env or bunfig.toml from the working directory. The baseline
// runtime comes from the pinned @oven/bun-linux-x64-baseline package that
// npm ci installs, so the build downloads nothing itself.
import type { BunPlugin } from 'bun';
import { parseArgs } from 'node:util';

const RUNTIMES: Record<string, string> = {
  'bun-linux-x64-baseline': `${__dirname}/../../node_modules/@oven/bun-linux-x64-baseline/bin/bun`,
};

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'bun-linux-x64-baseline' },
    outfile: { type: 'string', default: 'dist/guestnet' },
    entry: { type: 'string', default: `${__dirname}/../entry/main.ts` },
  },
});

const here = __dirname;
const stubs: BunPlugin = {
  name: 'no-run-time-files',
  setup(build) {
    build.onResolve({ filter: /^y18n$/ }, () => ({ path: `${here}/y18n-en.ts` }));
    build.onResolve({ filter: /^escalade\/sync$/ }, () => ({ path: `${here}/no-find-up.ts` }));
    build.onResolve({ filter: /^cliui$/ }, () => ({ path: `${here}/cliui-words.ts` }));
  },
};

async function compile(): Promise<void> {
  const result = await Bun.build({
    entrypoints: [values.entry],
    minify: true,
    bytecode: true,
    // One chunk per dynamic import(): code only `report` needs
    // (systeminformation) is not even parsed on the boot path.
    splitting: true,
    format: 'esm',
    plugins: [stubs],
    compile: {
      target: values.target as Bun.Build.CompileTarget,
      executablePath: RUNTIMES[values.target],
      outfile: values.outfile,
      autoloadDotenv: false,
      autoloadBunfig: false,
      autoloadTsconfig: false,
      autoloadPackageJson: false,
    },
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    process.exit(1);
  }
}

void compile();
