import { spawn, type ChildProcess } from 'node:child_process';
import type { EventSink, EventSource } from './source';

// `ip` joins the multicast group a moment after exec, and says nothing when
// it has; one extra wake after that catches a link added in between.
const SETTLE_MS = 50;

/** `ip -o monitor link` as a child: one line on stdout per link event (iproute2 only). */
export class IpMonitorEvents implements EventSource {
  readonly name = 'ip monitor';
  private child: ChildProcess | undefined;
  private settle: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly binary: string) {}

  start(sink: EventSink): void {
    const child = spawn(this.binary, ['-o', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stdout?.on('data', () => sink.changed());
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-500)));
    child.on('spawn', () => (this.settle = setTimeout(() => sink.changed(), SETTLE_MS)));
    child.on('error', (err) => {
      if (this.child === child) sink.failed(new Error(`cannot run ${this.binary} monitor: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return; // stopped on purpose
      const why = stderr.trim().split('\n')[0] || `exit ${code ?? signal}`;
      sink.failed(new Error(`${this.binary} monitor ended: ${why}`));
    });
  }

  async stop(): Promise<void> {
    clearTimeout(this.settle);
    const child = this.child;
    this.child = undefined;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }
}
