// What guestnet refuses to run under. bun applies JavaScriptCore options
// from BUN_JSC_* variables before any of guestnet's code runs, checking the
// prefix byte by byte, so the build cannot make them inert as it does the
// variables in agent/build/inert-env.ts; the least guestnet can do is stop
// before it touches the network with an engine someone else configured.

/** The BUN_JSC_* variables in `env`, sorted. */
export function engineOptionsIn(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('BUN_JSC_'))
    .sort();
}
