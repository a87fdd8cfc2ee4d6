/**
 * Tools some tests drive that a fresh machine may lack (`.ci/run` installs them all). A test
 * that needs one is skipped with the reason and the package to install, never failed: the
 * README's test command must pass on a fresh machine, and say what it could not check.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

function onPath(name: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':');
  return dirs.some((dir) => dir && existsSync(join(dir, name)));
}

/** false when `tool` is installed; else why the test is skipped (for node:test's `skip`). */
export function without(tool: string, debianPackage: string, what = ''): string | false {
  if (onPath(tool)) return false;
  return `${tool} is not installed${what ? ` (${what})` : ''}: apt-get install -y ${debianPackage}`;
}

export const WITHOUT_DIG = without('dig', 'dnsutils');
/** Without nft, the sandbox redirects no TCP (nor records UDP): see docs/sandbox.md. */
export const WITHOUT_NFT = without('nft', 'nftables', 'the sandbox needs it to redirect');
