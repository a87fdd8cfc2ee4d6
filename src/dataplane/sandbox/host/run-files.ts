/**
 * The private folder of one `egress run` (mode 0700, removed at the end): the resolv.conf the
 * sandbox sees, the inspect trust files, and (hidden from the command) the session CA. Also
 * the list of paths the command must not see.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HiddenPath } from '../protocol.js';

/** Sockets of host resolvers that would answer names without asking the policy. */
export const RESOLVER_SOCKETS = [
  '/run/systemd/resolve/io.systemd.Resolve',
  '/run/nscd/socket',
  '/var/run/nscd/socket',
];

/** The host's resolv.conf with its nameservers replaced by the sandbox DNS (search kept). */
export function sandboxResolvConf(hostResolvConf: string): string {
  const kept = hostResolvConf
    .split('\n')
    .filter((line) => /^\s*(search|domain|options)\b/.test(line) && !/\btrust-ad\b/.test(line));
  return (
    [
      '# egress run: every name is resolved by the policy-aware DNS',
      'nameserver 127.0.0.1',
      ...kept,
    ].join('\n') + '\n'
  );
}

export class RunFiles {
  readonly dir: string;

  constructor(base = tmpdir()) {
    this.dir = mkdtempSync(join(base, 'egress-run-'));
  }

  get sessionStateDir(): string {
    return join(this.dir, 'private');
  }

  writeResolvConf(hostPath = '/etc/resolv.conf'): string {
    let host = '';
    try {
      host = readFileSync(hostPath, 'utf8');
    } catch {
      // No host resolv.conf: nameserver only.
    }
    const path = join(this.dir, 'resolv.conf');
    writeFileSync(path, sandboxResolvConf(host), { mode: 0o644 });
    return path;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What the command must not read: CA keys, the audit log, host resolver sockets. */
export function hiddenPaths(options: { caDir?: string; auditLog?: string }): HiddenPath[] {
  const hidden: HiddenPath[] = [];
  if (options.caDir && existsSync(options.caDir)) hidden.push({ path: options.caDir, kind: 'dir' });
  if (options.auditLog && existsSync(options.auditLog))
    hidden.push({ path: options.auditLog, kind: 'file' });
  for (const path of RESOLVER_SOCKETS)
    if (existsSync(path)) hidden.push({ path, kind: 'file', optional: true });
  return hidden;
}
