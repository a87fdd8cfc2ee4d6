/**
 * Where an HTTP request or a tunnel says it is going, as text on the wire: the absolute-form
 * URI of a forward request, a Host header, a CONNECT authority. Pure: no sockets.
 */
import { normaliseHost } from '../../policy/normalise/host.js';

export interface ParsedTarget {
  host: string;
  port: number;
  path: string;
}

/** The target of an absolute-form request; undefined for origin-form or a malformed URL. */
export function absoluteTarget(rawUrl: string | undefined): ParsedTarget | undefined {
  if (!rawUrl || !/^http:\/\//i.test(rawUrl)) return undefined;
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return undefined;
  }
  if (url.username || url.password) return undefined;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port ? Number(url.port) : 80, path: `${url.pathname}${url.search}` };
}

/** Host header → canonical host and port (default `defaultPort`), or undefined if it does not parse. */
export function hostHeaderTarget(
  value: string | undefined,
  defaultPort = 80,
): { host: string; port: number } | undefined {
  if (!value) return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::([0-9]{1,5}))?$/.exec(value.trim());
  if (!m) return undefined;
  const normal = normaliseHost(m[1] ?? m[2] ?? '');
  if (!normal.ok) return undefined;
  return { host: normal.host.name, port: m[3] ? Number(m[3]) : defaultPort };
}

/** `host:port` or `[v6]:port` (a CONNECT authority); the port is required. */
export function parseAuthority(
  text: string | undefined,
): { host: string; port: number } | undefined {
  if (!text) return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:/@\s]+)):([0-9]{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

/** `host:port`, with an IPv6 address in brackets. */
export function formatAuthority(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** `host[:port]` as a URL or Host header writes it: the scheme's default port left out. */
export function urlAuthority(host: string, port: number, defaultPort: number): string {
  const name = host.includes(':') ? `[${host}]` : host;
  return port === defaultPort ? name : `${name}:${port}`;
}
