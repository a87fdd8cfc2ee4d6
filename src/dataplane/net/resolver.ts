/**
 * Name resolution for the data plane: `--resolve NAME=IP` pins first (tests, air-gapped use),
 * then the system resolver. The proxy resolves each allowed name exactly once per connection
 * and dials one of the addresses it classified: there is no second lookup to rebind.
 */
import { promises as dns } from 'node:dns';
import { EgressError } from '../../protocol/errors.js';
import { normaliseHost } from '../../policy/normalise/host.js';
import { parseIp } from '../../policy/normalise/ip.js';

export type ResolveErrorCode = 'dns_nxdomain' | 'dns_timeout' | 'dns_failure';

export class ResolveError extends EgressError<ResolveErrorCode> {
  override name = 'ResolveError';
}

export interface Resolver {
  resolve(name: string): Promise<string[]>;
}

/** Parses `NAME=IP` pins; several IPs may be given as `NAME=IP,IP`. */
export function parsePins(pins: readonly string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const pin of pins) {
    const eq = pin.indexOf('=');
    if (eq <= 0) throw new Error(`--resolve "${pin}" must look like NAME=IP`);
    const name = normaliseHost(pin.slice(0, eq));
    if (!name.ok || name.host.kind !== 'name')
      throw new Error(`--resolve "${pin}": "${pin.slice(0, eq)}" is not a host name`);
    const ips = pin
      .slice(eq + 1)
      .split(',')
      .map((ip) => {
        const parsed = parseIp(ip);
        if (!parsed.ok) throw new Error(`--resolve "${pin}": ${parsed.error}`);
        return parsed.value.text;
      });
    map.set(name.host.name, [...(map.get(name.host.name) ?? []), ...ips]);
  }
  return map;
}

export interface SystemResolverOptions {
  pins?: Map<string, string[]>;
  timeoutMs?: number;
  /** Only pinned names resolve (tests: nothing may reach a real resolver). */
  pinnedOnly?: boolean;
}

export class SystemResolver implements Resolver {
  private readonly pins: Map<string, string[]>;
  private readonly timeoutMs: number;
  private readonly pinnedOnly: boolean;

  constructor(options: SystemResolverOptions = {}) {
    this.pins = options.pins ?? new Map();
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.pinnedOnly = options.pinnedOnly ?? false;
  }

  pinned(name: string): string[] | undefined {
    return this.pins.get(name);
  }

  async resolve(name: string): Promise<string[]> {
    const pinned = this.pins.get(name);
    if (pinned) return pinned;
    if (this.pinnedOnly)
      throw new ResolveError('dns_nxdomain', `${name} is not pinned with --resolve`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ResolveError(
              'dns_timeout',
              `resolving ${name} took longer than ${this.timeoutMs} ms`,
            ),
          ),
        this.timeoutMs,
      );
    });
    try {
      const answers = await Promise.race([
        dns.lookup(name, { all: true, verbatim: true }),
        timeout,
      ]);
      if (answers.length === 0) throw new ResolveError('dns_nxdomain', `${name} has no addresses`);
      return answers.map((a) => a.address);
    } catch (err) {
      if (err instanceof ResolveError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA')
        throw new ResolveError('dns_nxdomain', `${name} does not exist (${code})`);
      throw new ResolveError('dns_failure', `resolving ${name} failed: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
