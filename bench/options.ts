// The command line of bench/bench.ts: flags only; the workloads take the Config.

export const USAGE = `usage: bun run bench/bench.ts [options]
  --variant SPEC     guestnet variant to measure (repeatable; default: auto, ip, netlink).
                     SPEC is a preset (auto, ip, netlink, busybox) or LABEL=[BINARY] ARGS...,
                     e.g. 'nl2=/tmp/guestnet --backend netlink'
  --sizes LIST       link counts for boot apply (default 1,8,64,256,1024,4096)
  --events N         hotplug events per program and base (default 100; 30 at bases over 8)
  --hotplug-base LIST  configured links already in the namespace (default 8,1024,4096)
  --hotplug-only     only the hotplug workload (e.g. with --hotplug-base 4096 --variant auto):
                     writes bench/results/hotplug.json and prints its medians; RESULTS.md is left as is
  --forward-only     only the forwarding lane (iperf3 through the netvm's firewall vs. masquerade only,
                     first --variant, default auto): writes bench/results/forward.json, prints its table
  --quick            few repetitions, for trying the harness out
  --idle             run the idle workload instead (default 600 s; --idle-seconds S)
  --dns-only         only the DNS workload (guestnet dns against dnsmasq, dnsperf): writes
                     bench/results/dns.json and prints its table; RESULTS.md takes it on the next --report
  --emulated         only the emulated lane (the aarch64 build under qemu-user beside this
                     machine's, which make bench runs too): bench/results/emulated.json and its
                     section of RESULTS.md
  --report           only rewrite RESULTS.md and chart.svg from bench/results/`;

export interface Config {
  variants: string[];
  sizes: number[];
  events: number;
  hotplugBase: number[];
  quick: boolean;
  hotplugOnly: boolean;
  forwardOnly: boolean;
  dnsOnly: boolean;
  idle: boolean;
  idleSeconds: number;
  emulated: boolean;
  reportOnly: boolean;
  help: boolean;
}

const DEFAULTS: Config = {
  variants: [], sizes: [1, 8, 64, 256, 1024, 4096], events: 100, hotplugBase: [8, 1024, 4096],
  quick: false, hotplugOnly: false, forwardOnly: false, dnsOnly: false, idle: false, idleSeconds: 600, emulated: false, reportOnly: false, help: false,
};

/** Reads argv[i + 1] as a flag's value. */
function valueAt(argv: readonly string[], i: number): string {
  if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value\n${USAGE}`);
  return argv[i + 1];
}

const intList = (flag: string, text: string): number[] => text.split(',').map((t) => positiveInt(flag, t));

function positiveInt(flag: string, text: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${flag}: not a positive integer`);
  return v;
}

export function parseArgs(argv: readonly string[]): Config {
  const c: Config = { ...DEFAULTS, variants: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    // Flags that take a value consume the next word.
    const value = (): string => valueAt(argv, i++);
    switch (flag) {
      case '--variant': c.variants.push(value()); break;
      case '--sizes': c.sizes = intList(flag, value()); break;
      case '--events': c.events = positiveInt(flag, value()); break;
      case '--hotplug-base': c.hotplugBase = intList(flag, value()); break;
      case '--quick': c.quick = true; break;
      case '--hotplug-only': c.hotplugOnly = true; break;
      case '--forward-only': c.forwardOnly = true; break;
      case '--dns-only': c.dnsOnly = true; break;
      case '--idle': c.idle = true; break;
      case '--idle-seconds': c.idleSeconds = positiveInt(flag, value()); break;
      case '--emulated': c.emulated = true; break;
      case '--report': c.reportOnly = true; break;
      case '-h': case '--help': c.help = true; break;
      default: throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return validated(c);
}

function validated(c: Config): Config {
  if (c.variants.length === 0) c.variants = ['auto', 'ip', 'netlink'];
  if ([...c.sizes, ...c.hotplugBase].some((n) => n > 4096)) throw new Error('--sizes, --hotplug-base: 1-4096 each');
  if (c.events > 200) throw new Error('--events: at most 200');
  if (c.quick) c.events = Math.min(c.events, 10);
  return c;
}
