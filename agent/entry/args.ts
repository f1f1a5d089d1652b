import type { BackendName } from '../apply/backend-names';
import type { Context } from '../commands/common';
import { checkOptions } from '../convention/options';
import { DEFAULT_OPTIONS, type SchemeName } from '../convention/types';
import { DEFAULT_BOUNDARY, parseFlowLimit, parseOpenPorts } from '../convention/boundary';
import { SYSFS_NET } from '../discover/sysfs';
import { createLogger, type LogFormat } from '../log';

// The parsed command line, shared by the yargs CLI and the fast path.

export interface GlobalArgs {
  scheme: SchemeName;
  gateway: string;
  prefix: number;
  'default-route': boolean;
  backend: BackendName;
  'ip-binary': string;
  'log-format': LogFormat;
  quiet: boolean;
  verbose: boolean;
  json: boolean;
  masquerade: boolean;
  'allow-client-to-client': boolean;
  /** A number, `auto` or `off`, as typed (checked in context()). */
  'client-flow-limit': string;
  'open-port': string[];
}

export interface ApplyArgs extends GlobalArgs {
  iface?: string[];
  'dry-run': boolean;
  wait: number;
}

export const DEFAULT_ARGS: Readonly<GlobalArgs> = {
  scheme: DEFAULT_OPTIONS.scheme,
  gateway: DEFAULT_OPTIONS.gateway,
  prefix: DEFAULT_OPTIONS.clientPrefix,
  'default-route': DEFAULT_OPTIONS.defaultRoute,
  backend: 'auto',
  'ip-binary': 'ip',
  'log-format': 'human',
  quiet: false,
  verbose: false,
  json: false,
  masquerade: DEFAULT_BOUNDARY.masquerade,
  'allow-client-to-client': !DEFAULT_BOUNDARY.isolate,
  'client-flow-limit': String(DEFAULT_BOUNDARY.flowLimit),
  'open-port': [],
};

export async function context(args: GlobalArgs): Promise<Context> {
  const derive = await checkOptions({
    scheme: args.scheme,
    gateway: args.gateway,
    clientPrefix: args.prefix,
    defaultRoute: args['default-route'],
  });
  const verbosity = args.quiet ? -1 : args.verbose ? 1 : 0;
  const boundary = {
    masquerade: args.masquerade,
    isolate: !args['allow-client-to-client'],
    flowLimit: parseFlowLimit(String(args['client-flow-limit'])),
    openPorts: parseOpenPorts(args['open-port'].map(String)),
  };
  return { derive, boundary, sysfs: SYSFS_NET, log: createLogger({ format: args['log-format'], verbosity }) };
}
