/**
 * Destination arguments as people type them (DESIGN.md section 6): `host`, `host:port`,
 * `[v6]:port`, `ip`, `scheme://host[:port][/path]`, `tcp://host:port`, `udp://host:port`.
 * A bare host means TCP port 443. Malformed input is an error, never a guess.
 */
import type { Transport } from './model.js';
import { normaliseHost } from './normalise/host.js';

export interface DestinationArg {
  /** As given, for display. */
  input: string;
  host: string;
  port: number;
  transport: Transport;
  scheme?: string;
  path?: string;
}

export type DestinationArgResult =
  { ok: true; value: DestinationArg } | { ok: false; error: string };

const DEFAULT_PORTS: Record<string, number> = {
  http: 80,
  https: 443,
  ws: 80,
  wss: 443,
  ssh: 22,
  git: 9418,
  ftp: 21,
  ftps: 990,
  smtp: 25,
  smtps: 465,
  imaps: 993,
  ldap: 389,
  ldaps: 636,
  redis: 6379,
  postgres: 5432,
  postgresql: 5432,
  mysql: 3306,
  mongodb: 27017,
  dns: 53,
};

function parsePort(text: string, input: string): number | string {
  if (!/^[0-9]{1,5}$/.test(text)) return `"${input}" has an invalid port "${text}"`;
  const port = Number(text);
  if (port < 1 || port > 65535) return `"${input}" has port ${port}, outside 1-65535`;
  return port;
}

/** Splits an authority (`host`, `host:port`, `[v6]`, `[v6]:port`, bare IPv6). */
function splitAuthority(
  authority: string,
  input: string,
): { host: string; port?: number } | string {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close === -1) return `"${input}" opens "[" without closing it`;
    const host = authority.slice(1, close);
    const rest = authority.slice(close + 1);
    if (rest === '') return { host };
    if (!rest.startsWith(':')) return `"${input}" has text after "]" that is not ":port"`;
    const port = parsePort(rest.slice(1), input);
    return typeof port === 'string' ? port : { host, port };
  }
  const colons = authority.split(':').length - 1;
  if (colons === 0) return { host: authority };
  if (colons === 1) {
    const [host, portText] = authority.split(':') as [string, string];
    const port = parsePort(portText, input);
    return typeof port === 'string' ? port : { host, port };
  }
  return { host: authority }; // a bare IPv6 address
}

export function parseDestinationArg(input: string): DestinationArgResult {
  const text = input.trim();
  if (!text) return { ok: false, error: 'empty destination' };
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text);
  let authority = text;
  let transport: Transport = 'tcp';
  let defaultPort: number | undefined = 443;
  let schemeName: string | undefined;
  let path: string | undefined;
  if (scheme) {
    schemeName = scheme[1]!.toLowerCase();
    const rest = text.slice(scheme[0].length);
    const end = rest.search(/[/?#]/);
    authority = end === -1 ? rest : rest.slice(0, end);
    if (end !== -1) path = rest.slice(end);
    if (authority.includes('@'))
      return { ok: false, error: `"${input}" has user information ("...@"); give the host alone` };
    if (schemeName === 'tcp' || schemeName === 'udp') {
      transport = schemeName;
      defaultPort = undefined;
      if (path !== undefined && path !== '/')
        return { ok: false, error: `"${input}": ${schemeName}:// destinations have no path` };
      path = undefined;
    } else {
      defaultPort = DEFAULT_PORTS[schemeName];
      if (schemeName === 'dns') transport = 'udp';
    }
  } else if (/[/?#]/.test(text)) {
    return { ok: false, error: `"${input}" looks like a URL without a scheme`, ...{} };
  }
  const split = splitAuthority(authority, input);
  if (typeof split === 'string') return { ok: false, error: split };
  const port = split.port ?? defaultPort;
  if (port === undefined) {
    return { ok: false, error: `"${input}" needs a port (${schemeName}://host:PORT)` };
  }
  const host = normaliseHost(split.host);
  if (!host.ok) return { ok: false, error: `"${input}": ${host.error}` };
  const value: DestinationArg = { input, host: host.host.name, port, transport };
  if (schemeName !== undefined && schemeName !== 'tcp' && schemeName !== 'udp')
    value.scheme = schemeName;
  if (path !== undefined) value.path = path;
  return { ok: true, value };
}
