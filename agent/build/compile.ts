// Builds dist/guestnet, one self-contained executable, with bun's compiler:
//   bun agent/build/compile.ts [--target bun-linux-x64-baseline] [--outfile dist/guestnet] [--entry FILE]
// (--entry builds another program the same way: the benchmark's runtime floor.)
// The executable reads no files at run time: no package.json, no yargs
// locales, no .env or bunfig.toml from the working directory; its file I/O
// is agent/io/files-bun.ts (libc), not node:fs. Each target's runtime comes
// from its pinned @oven/bun-linux-* package that npm ci installs (the aarch64
// one with --cpu=arm64, as the Makefile does), so the build downloads nothing itself.
import type { BunPlugin } from 'bun';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { rmSync } from 'node:fs';
import { inertRuntime } from './inert-env';

const RUNTIMES: Record<string, string> = {
  'bun-linux-x64-baseline': `${__dirname}/../../node_modules/@oven/bun-linux-x64-baseline/bin/bun`,
  'bun-linux-arm64': `${__dirname}/../../node_modules/@oven/bun-linux-aarch64/bin/bun`,
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
    // File and fd I/O through libc rather than node:fs (agent/io/files.ts says why).
    build.onResolve({ filter: /^\.\/files-node$/ }, () => ({ path: resolve(here, '../io/files-bun.ts') }));
  },
};

async function compile(): Promise<void> {
  const executable = RUNTIMES[values.target];
  if (!executable) throw new Error(`--target ${values.target}: not one of ${Object.keys(RUNTIMES).join(', ')}`);
  // The runtime with the environment variables that would load code made inert (inert-env.ts).
  const runtime = inertRuntime(executable, `${values.outfile}.runtime`);
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
      executablePath: runtime,
      outfile: values.outfile,
      autoloadDotenv: false,
      autoloadBunfig: false,
      autoloadTsconfig: false,
      autoloadPackageJson: false,
      // JavaScriptCore's tier-up thresholds × 100 until agent/engine.ts
      // turns them back (bench/SCALE.md: less CPU and memory at tens of links).
      jitPolicy: 100,
    },
  });
  rmSync(runtime);
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    process.exit(1);
  }
}

void compile();
