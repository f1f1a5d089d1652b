// The few error classes guestnet raises. Only main.ts maps them to exit codes.

/** Bad input from the user: a malformed MAC, an unknown interface, a bad option. Exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The environment cannot do the job at all (no `ip`, no sysfs). Exit 1. */
export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}
