/**
 * One srt domain entry (`example.com`, `*.npmjs.org:443`, `[::1]:8080`, `*` or `*:22` in
 * deniedDomains) read with srt's own rules (src/sandbox/domain-pattern.ts and
 * sandbox-config.ts), then turned into a selector:
 *   exact name or IP → that name or address;  `*.x` → `**.x` (any depth, apex excluded);
 *   `*` → every destination (names and addresses, as srt's matcher does).
 */
import type { Selector } from '../../model.js';
import type { Path } from '../../source/diagnostics.js';
import type { Reporter } from '../../source/reporter.js';
import { targetSelector } from '../common.js';

interface Split {
  host: string;
  port?: number;
  bracketed: boolean;
}

/** srt's split: only a strictly numeric 1-65535 suffix is a port; IPv6 needs brackets. */
function splitEntry(entry: string): Split | string {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close === -1) return 'an IPv6 address opened with "[" needs a closing "]"';
    const rest = entry.slice(close + 1);
    const host = entry.slice(1, close);
    if (rest === '') return { host, bracketed: true };
    const port = portSuffix(rest.startsWith(':') ? rest.slice(1) : '');
    return port === undefined
      ? 'after "]" only ":port" may follow'
      : { host, port, bracketed: true };
  }
  const first = entry.indexOf(':');
  if (first !== -1 && entry.indexOf(':', first + 1) !== -1)
    return 'an IPv6 address must be written in brackets, like "[::1]" or "[::1]:443"';
  if (first === -1) return { host: entry, bracketed: false };
  const port = portSuffix(entry.slice(first + 1));
  if (port === undefined) return `"${entry.slice(first + 1)}" is not a port from 1 to 65535`;
  return { host: entry.slice(0, first), port, bracketed: false };
}

function portSuffix(text: string): number | undefined {
  if (!/^[1-9][0-9]{0,4}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

/** srt's isValidDomainPattern, with its reasons spelled out. */
function hostProblem(host: string, allowStar: boolean): string | undefined {
  if (host === '*') return allowStar ? undefined : 'a bare "*" is only accepted in deniedDomains';
  if (host === 'localhost') return undefined;
  if (host.includes('/')) return 'srt domain entries are host names, not URLs or paths';
  if (host.startsWith('*.')) {
    const parts = host.slice(2).split('.');
    if (parts.length < 2 || parts.some((p) => p.length === 0))
      return `"${host}" is too broad: srt needs at least two labels after "*."`;
    return parts.some((p) => p.includes('*'))
      ? 'srt allows "*" only as the whole leftmost label ("*.example.com")'
      : undefined;
  }
  if (host.includes('*'))
    return 'srt allows "*" only as the whole leftmost label ("*.example.com")';
  if (!host.includes('.') || host.startsWith('.') || host.endsWith('.'))
    return `"${host}" is not a domain srt accepts: it needs at least one inner dot`;
  return undefined;
}

export function srtEntrySelector(
  entry: string,
  reporter: Reporter,
  path: Path,
  inDenyList: boolean,
): Selector | undefined {
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/:?#]*)/i.exec(entry.trim());
  if (url) {
    reporter.error(path, `"${entry}" is a URL; srt entries are host names`, `write "${url[1]}"`);
    return undefined;
  }
  const split = splitEntry(entry.trim());
  if (typeof split !== 'string' && split.bracketed && !split.host.includes(':')) {
    reporter.error(path, `"[${split.host}]": brackets are only for IPv6 addresses`);
    return undefined;
  }
  if (typeof split === 'string') {
    reporter.error(path, `"${entry}" is not a valid srt domain entry: ${split}`);
    return undefined;
  }
  const problem = split.bracketed ? undefined : hostProblem(split.host, inDenyList);
  if (problem) {
    reporter.error(path, problem);
    return undefined;
  }
  const ports = split.port === undefined ? undefined : [{ from: split.port, to: split.port }];
  let selector: Selector | undefined;
  if (split.host === '*') selector = { source: reporter.location(path) };
  else {
    // srt's "*.x" matches any strict subdomain, at any depth: the native "**.x".
    const target = split.host.startsWith('*.') ? `*${split.host}` : split.host;
    selector = targetSelector(target, reporter, path);
  }
  if (!selector) return undefined;
  if (ports) selector.ports = ports;
  return selector;
}
