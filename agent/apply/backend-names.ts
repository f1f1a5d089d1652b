// The backends a user can name. Apart from select-backend.ts, so that
// parsing a command line loads no backend.

export type BackendName = 'ip' | 'netlink' | 'auto';
export const BACKEND_NAMES: readonly BackendName[] = ['ip', 'netlink', 'auto'];
