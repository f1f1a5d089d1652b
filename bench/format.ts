// How the report prints numbers and tables (Markdown).

export const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
export const mib = (kib: number | undefined): string => (kib === undefined ? '' : (kib / 1024).toFixed(1));
export const ratio = (v: number): string => (Number.isFinite(v) ? `${v >= 9.995 ? v.toFixed(0) : v.toFixed(2)}×` : '');
export const na = (reason?: string): string => `n/a${reason ? ` (${reason.replace(/\|/g, '\\|')})` : ''}`;

export const table = (head: string[], rows: string[][]): string =>
  [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n';
