import { UsageError } from '../errors';
import { DEFAULT_OPTIONS, type DeriveOptions } from './types';

/**
 * Validates the user's options once, at the CLI edge, and normalizes the
 * gateway. ip-address is loaded only for a gateway the user typed: loading
 * it costs about 5 MiB of RSS, which boot and hotplug runs with the default
 * options need not pay.
 */
export async function checkOptions(options: DeriveOptions): Promise<DeriveOptions> {
  if (!Number.isInteger(options.clientPrefix) || options.clientPrefix < 16 || options.clientPrefix > 32) {
    throw new UsageError(`--prefix: "${options.clientPrefix}" is not a prefix length from 16 to 32`);
  }
  if (options.gateway === DEFAULT_OPTIONS.gateway) return options;
  const { Address4 } = await import('ip-address');
  if (!Address4.isValid(options.gateway) || options.gateway.includes('/')) {
    throw new UsageError(`--gateway: "${options.gateway}" is not an IPv4 address`);
  }
  return { ...options, gateway: new Address4(options.gateway).correctForm() };
}
