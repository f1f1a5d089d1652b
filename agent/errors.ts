// The few error classes guestnet raises. Only entry/main.ts maps them to exit codes.

/**
 * An error that may concern some interfaces. `what` is what happened (and
 * why); `message` puts the names first ("eth0, eth1: what"), as JSON log
 * lines have always carried it, while text lines print the names where
 * per-interface lines have them (see Logger.fatal).
 */
abstract class GuestnetError extends Error {
  constructor(
    readonly what: string,
    readonly ifnames: readonly string[] = [],
  ) {
    super(ifnames.length > 0 ? `${ifnames.join(', ')}: ${what}` : what);
  }
}

/** Bad input from the user: a malformed MAC, an unknown interface, a bad option. Exit 2. */
export class UsageError extends GuestnetError {
  override readonly name = 'UsageError';
}

/** The environment cannot do the job at all (no `ip`, no sysfs). Exit 1. */
export class EnvironmentError extends GuestnetError {
  override readonly name = 'EnvironmentError';
}

/** The interface names an error concerns and what happened to them. */
export function errorParts(err: unknown): { ifnames: readonly string[]; what: string } {
  if (err instanceof GuestnetError) return { ifnames: err.ifnames, what: err.what };
  return { ifnames: [], what: err instanceof Error ? err.message : String(err) };
}
